"""`carbonflow gateways add | revoke` through the shared gateway administration (carbonflow/gateway_admin.py):
certificate issued with its expiry recorded, broker ACL written, each change audited as the OS user."""

from __future__ import annotations

import getpass
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from carbonflow.cli import main


@pytest.fixture
def home(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    info = conninfo_to_dict(database_url)  # the CLI takes a URL, the session database is a conninfo string
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}")
    monkeypatch.setenv("CARBONFLOW_HOME", str(tmp_path))
    return tmp_path


def test_add_then_revoke_writes_the_acl_records_the_expiry_and_audits_the_os_user(
        home: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    gateway = f"gw-cli-{uuid.uuid4().hex[:8]}"
    assert main(["gateways", "add", gateway]) == 0
    assert "valid until" in capsys.readouterr().out
    assert main(["gateways", "list"]) == 0
    [listed] = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith(gateway + " ")]
    assert listed[1:3] == ["active", "certificate"] and listed[4][:2] == "20"  # its certificate's expiry date
    assert (home / "certs" / f"client-{gateway}.crt").is_file()
    assert f"user {gateway}" in (home / "mqtt" / "mosquitto.acl").read_text().splitlines()
    assert main(["gateways", "revoke", gateway]) == 0
    assert f"user {gateway}" not in (home / "mqtt" / "mosquitto.acl").read_text().splitlines()
    with psycopg.connect(database_url) as conn:
        status, expires = conn.execute("SELECT status, cert_expires_at FROM gateways WHERE gateway_id = %s",
                                       (gateway,)).fetchone()  # type: ignore[misc]
        audit = conn.execute("SELECT action, actor, actor_kind FROM audit_log WHERE target = %s ORDER BY audit_id",
                             (f"gateway:{gateway}",)).fetchall()
    assert (status, expires is not None) == ("revoked", True)
    actor = f"cli:{getpass.getuser()}"
    assert audit == [("gateway.add", actor, "system"), ("gateway.revoke", actor, "system")]


def test_revoking_an_unknown_gateway_says_so_and_fails(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateways", "revoke", f"gw-none-{uuid.uuid4().hex[:8]}"]) == 1
    assert "no registered gateway" in capsys.readouterr().err


def test_the_demo_way_of_registering_records_the_certificates_expiry_and_keeps_it_on_reregistering(
        tmp_path: Path, database_url: str) -> None:
    from cryptography import x509

    from carbonflow.certs import certificate_expiry, ensure_dev_pki
    from carbonflow.gateways import register_gateway

    gateway = f"gw-demo-{uuid.uuid4().hex[:8]}"
    paths = ensure_dev_pki(tmp_path, [gateway])[gateway]
    written = x509.load_pem_x509_certificate(paths.cert.read_bytes()).not_valid_after_utc
    with psycopg.connect(database_url, autocommit=True) as conn:
        first = register_gateway(conn, gateway, cert_expires_at=certificate_expiry(paths))
        again = register_gateway(conn, gateway)  # e.g. the demo restarted on an older call path
    assert (first.cert_expires_at, again.cert_expires_at) == (written, written)
