"""The `carbonflow` command: one entry point for every component."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carbonflow.settings import Settings

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from carbonflow.demo import run_demo

    settings = _settings("carbonflow demo")
    if settings is None:
        return 2
    return run_demo(settings, scenario=args.scenario)


def _cmd_certs(args: argparse.Namespace) -> int:
    from carbonflow.certs import ensure_dev_pki
    from carbonflow.embedded.mqtt import INGEST_IDENTITY
    from carbonflow.settings import load_settings

    directory = args.dir or load_settings().home / "certs"
    made = ensure_dev_pki(directory, [*args.gateway, INGEST_IDENTITY])
    for name, paths in made.items():
        print(f"{name:<16} {paths.cert}  (key {paths.key})")
    print(f"CA: {made['server'].ca}")
    return 0


def _settings(command: str) -> Settings | None:
    """The environment's settings, or None after saying on stderr what is wrong with them."""
    from pydantic import ValidationError

    from carbonflow.settings import load_settings

    try:
        return load_settings()
    except ValidationError as exc:
        for error in exc.errors():
            print(f"{command}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return None


def _db_settings(command: str, hint: str = "") -> Settings | None:
    """The settings of a command that needs the database, or None after saying on stderr what is missing."""
    settings = _settings(command)
    if settings is None:
        return None
    if not settings.database_url:
        print(f"{command}: set DATABASE_URL=postgresql://...{hint}", file=sys.stderr)
        return None
    return settings


def _cmd_db(args: argparse.Namespace) -> int:
    settings = _settings("carbonflow db")
    if settings is None:
        return 2
    if args.action in ("backup", "restore"):
        return _db_backup_or_restore(settings, args)
    if not settings.database_url:
        print("carbonflow db: set DATABASE_URL=postgresql://... (the application role) and, to migrate as the"
              " tables' owner, MIGRATION_DATABASE_URL (docs/database.md)", file=sys.stderr)
        return 2
    if args.action == "retain":
        return _db_retain(settings.database_url, args)  # the application role: retention's partition work is
        # done for it by the owner's functions (093_least_privilege.plain.sql)
    if args.action == "compact":
        # the owner when known: only it may rebuild the indexes of the partitions compaction emptied
        return _db_compact(settings.migration_database_url or settings.database_url, args)
    return _db_migrate(settings)


def _db_migrate(settings: Settings) -> int:
    from carbonflow.db import DatabaseRoleError, connect_with_retry, migrate, role_of

    assert settings.database_url is not None
    if settings.migration_database_url is None:
        print("carbonflow db migrate: MIGRATION_DATABASE_URL is not set, so DATABASE_URL's role runs the"
              " migrations and owns the tables, and the services using it could switch off the audit log's"
              " trigger; see docs/database.md for the two roles", file=sys.stderr)
        url, app_role = settings.database_url, None
    else:
        url, app_role = settings.migration_database_url, role_of(settings.database_url)
    with connect_with_retry(url) as conn:
        try:
            applied = migrate(conn, app_role=app_role)
        except DatabaseRoleError as exc:
            print(f"carbonflow db migrate: {exc}", file=sys.stderr)
            return 2
    print(f"applied {len(applied)} migrations" + (": " + ", ".join(applied) if applied else " (up to date)")
          + (f"; application role {app_role} granted its privileges" if app_role else ""))
    return 0


def _db_backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Back up or restore the owner's database: MIGRATION_DATABASE_URL, else DATABASE_URL, else the embedded
    server under the carbonflow home (started if the demo is not running)."""
    from carbonflow.db.backup import BackupError, backup_database, default_backup_path, restore_database

    command = f"carbonflow db {args.action}"
    if args.action == "restore" and args.file is None:
        print(f"{command}: name the backup to restore with --file PATH", file=sys.stderr)
        return 2
    embedded = None
    if settings.database_url:
        url, app_role = settings.migration_database_url or settings.database_url, None
        if settings.migration_database_url is None:
            print(f"{command}: MIGRATION_DATABASE_URL is not set: using DATABASE_URL's role, which must own the"
                  " tables (docs/database.md)", file=sys.stderr)
        else:
            from carbonflow.db import role_of

            app_role = role_of(settings.database_url)
    else:
        from carbonflow.embedded.postgres import EmbeddedPostgres

        embedded = EmbeddedPostgres(settings.home / "pgdata")
        url, app_role = embedded.start(), EmbeddedPostgres.APP_ROLE
        print(f"{command}: embedded server, data in {settings.home / 'pgdata'}", file=sys.stderr)

    def progress(done: int, total: int, size: int) -> None:
        what = "tables" if args.action == "backup" else "items"
        print(f"\r{args.action}: {done}/{total} {what}, archive {size / 1e6:,.1f} MB", end="", file=sys.stderr,
              flush=True)

    try:
        if args.action == "backup":
            path = args.file or default_backup_path(settings.home)
            done = backup_database(url, path, progress=progress)
            print(file=sys.stderr)
            print(f"backed up {done.tables} tables of a PostgreSQL {done.server_major} server into {done.path}"
                  f" ({done.size / 1e6:,.1f} MB) in {done.seconds:.1f} s")
            return 0
        restored = restore_database(url, args.file, progress=progress)
        print(file=sys.stderr)
        if embedded is not None:
            embedded.app_url()  # creates the application role when the restored-into server lacks it
        from carbonflow.db import connect_with_retry, migrate

        with connect_with_retry(url) as conn:
            applied = migrate(conn, app_role=app_role)  # grants the application role; newer migrations, if any
    except BackupError as exc:
        print(file=sys.stderr)
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    finally:
        if embedded is not None:
            embedded.stop()
    print(f"restored {restored.items} items of a PostgreSQL {restored.archive_major} backup into PostgreSQL"
          f" {restored.server_major} in {restored.seconds:.1f} s"
          + (f"; then applied {len(applied)} newer migrations" if applied else "")
          + (f"; application role {app_role} granted its privileges" if app_role else ""))
    return 0


def _db_retain(url: str, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from carbonflow.db import connect_with_retry
    from carbonflow.db.retention import apply_retention, retention_settings

    try:
        settings = retention_settings()
        # `is not None`, not truthiness: --raw-days 0 must reach the settings' checks and be refused there
        overrides = {k: v for k, v in (("raw_days", args.raw_days), ("hourly_days", args.hourly_days))
                     if v is not None}
        settings = replace(settings, **overrides)
    except ValueError as exc:
        print(f"carbonflow db retain: {exc}", file=sys.stderr)
        return 2
    with connect_with_retry(url, autocommit=True) as conn:
        result = apply_retention(conn, settings)
    print(f"raw readings kept from {result['raw_before']:%Y-%m-%d %H:%M}Z, hourly data from"
          f" {result['hourly_before']:%Y-%m-%d %H:%M}Z; dropped {len(result['dropped'])} partitions"
          + (f" ({', '.join(result['dropped'])})" if result["dropped"] else "")
          + "; rows deleted: " + ", ".join(f"{t} {n}" for t, n in result["deleted"].items()))
    return 0


def _db_compact(url: str, args: argparse.Namespace) -> int:
    from carbonflow.db import connect_with_retry
    from carbonflow.db.compaction import CompactionSettings, compact_readings, compaction_settings

    try:
        settings = CompactionSettings(args.older_than) if args.older_than is not None else compaction_settings()
    except ValueError as exc:
        print(f"carbonflow db compact: {exc}", file=sys.stderr)
        return 2

    def progress(done: int, total: int, moved: int) -> None:
        print(f"\rcompacting: {done}/{total} devices' batches and points' rows, {moved:,} readings moved", end="",
              file=sys.stderr, flush=True)

    with connect_with_retry(url, autocommit=True) as conn:
        result = compact_readings(conn, settings, progress=progress)
    if result["points"]:
        print(file=sys.stderr)
    if "skipped" in result:
        print(f"note: {result['skipped']}")
    print(f"hours before {result['before']:%Y-%m-%d %H:%M}Z: {result['readings']:,} readings of {result['points']}"
          f" points moved into {result['blocks']:,} blocks in {result['seconds']:.1f} s")
    return 0


def _cmd_gateways(args: argparse.Namespace) -> int:
    import getpass

    from carbonflow.db import connect_with_retry
    from carbonflow.gateway_admin import GatewayFiles, add_gateway, revoke
    from carbonflow.gateways import GatewayError, list_gateways

    settings = _db_settings("carbonflow gateways")
    if settings is None:
        return 2
    if args.action == "bind":
        return _bind_device(settings.database_url, args.gateway, args.device)
    files = GatewayFiles.under(settings.home, args.broker_dir)
    actor = f"cli:{getpass.getuser()}"
    with connect_with_retry(settings.database_url, autocommit=True) as conn:
        try:
            if args.action == "add":
                added = add_gateway(conn, files, args.gateway, site_id=args.site, actor=actor, replace_active=True,
                                    auth="password" if args.password else "certificate")
                if added.password:
                    print(f"gateway {args.gateway}: password {added.password} (shown once)")
                elif added.certificate:
                    print(f"gateway {args.gateway}: client certificate {added.certificate.cert}, key"
                          f" {added.certificate.key}, valid until {added.gateway['cert_expires_at']:%Y-%m-%d}")
                acl = added.acl
            elif args.action == "revoke":
                _, acl = revoke(conn, files, args.gateway, actor=actor)
                print(f"gateway {args.gateway}: revoked; ingest refuses its data from now on")
            else:
                print(f"{'gateway':<20} {'status':<13} {'auth':<12} {'site':<18} {'cert expires':<13} last seen")
                for g in list_gateways(conn):
                    expires = f"{g.cert_expires_at:%Y-%m-%d}" if g.cert_expires_at else "-"
                    print(f"{g.gateway_id:<20} {g.status:<13} {g.auth:<12} {g.site_id or '-':<18} {expires:<13}"
                          f" {g.last_seen or '-'}")
                return 0
            print(f"broker ACL written to {acl}; reload the broker (SIGHUP) to apply it")
        except GatewayError as exc:
            print(f"carbonflow gateways: {exc}", file=sys.stderr)
            return 1
    return 0


def _cmd_registry(args: argparse.Namespace) -> int:
    """`registry apply FILE`: create or update an enterprise, its sites, devices and point bindings."""
    import getpass

    import psycopg
    import yaml
    from pydantic import ValidationError

    from carbonflow.db import connect_with_retry
    from carbonflow.registry import apply_registry, load_registry

    settings = _db_settings("carbonflow registry")
    if settings is None:
        return 2
    try:
        registry = load_registry(args.file)
    except OSError as exc:
        print(f"carbonflow registry: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except (ValidationError, yaml.YAMLError) as exc:
        print(f"carbonflow registry: {args.file} is not a site registry: {exc}", file=sys.stderr)
        return 1
    with connect_with_retry(settings.database_url, autocommit=True) as conn:
        try:
            apply_registry(conn, registry, actor=f"cli:{getpass.getuser()}")
        except (ValueError, psycopg.Error) as exc:
            print(f"carbonflow registry: {args.file}: {exc}", file=sys.stderr)
            return 1
    print(f"enterprise {registry.enterprise_id}: {len(registry.sites)} sites and {len(registry.devices)} devices"
          f" applied from {args.file}")
    return 0


def _bind_device(database_url: str, gateway: str, device: str | None) -> int:
    """`gateways bind <gateway> --device <device>`: move a device to the gateway, audited as this OS user."""
    import getpass

    from carbonflow.db import connect_with_retry
    from carbonflow.device_bindings import BindingError, move_device

    if not gateway or not device:
        print("carbonflow gateways bind: give the gateway and --device (e.g. `carbonflow gateways bind gw-b"
              " --device meter-1`)", file=sys.stderr)
        return 2
    with connect_with_retry(database_url, autocommit=True) as conn:
        try:
            before, _ = move_device(conn, device, gateway, actor=f"cli:{getpass.getuser()}")
        except BindingError as exc:
            print(f"carbonflow gateways bind: {exc}", file=sys.stderr)
            return 1
    print(f"device {device}: bound to gateway {gateway} (was {before['gateway_id'] or 'none'}); ingest accepts its"
          " readings from this gateway only, within INGEST_REGISTRY_REFRESH_S")
    return 0


def _cmd_recompute(args: argparse.Namespace) -> int:
    from datetime import datetime

    from stream_jobs.recompute import run_recompute

    settings = _db_settings("carbonflow recompute")
    if settings is None:
        return 2
    url = settings.database_url
    try:
        start, end = (datetime.fromisoformat(v) for v in (args.start, args.end))
    except ValueError as exc:
        print(f"carbonflow recompute: --start/--end must be ISO-8601 times with offsets: {exc}", file=sys.stderr)
        return 2
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        print("carbonflow recompute: give --start < --end, both with a UTC offset (e.g. 2026-01-01T00:00+08:00)",
              file=sys.stderr)
        return 2
    return run_recompute(url, args.site, start, end)


def _cmd_monitoring(args: argparse.Namespace) -> int:
    import asyncio

    from api.monitoring.sync import run_due

    settings = _db_settings("carbonflow monitoring")
    if settings is None:
        return 2
    if args.action == "recompute":
        return _monitoring_recompute(settings.database_url, args.reason)
    if args.action == "meter-months":
        return _monitoring_meter_months(settings.database_url, args)
    if args.action == "schedule":
        return _monitoring_schedule(settings.database_url, args)
    runs = asyncio.run(run_due(settings.database_url, once=args.once, poll_s=args.poll))
    for run in runs:
        print(run.error or f"{run.source}: {run.rows} rows, {run.stored} stored, {run.unchanged} unchanged, "
                           f"{run.refused} refused; watermark {run.watermark}")
    return 1 if any(run.error for run in runs) else 0


def _cmd_assets(args: argparse.Namespace) -> int:
    return _run_alarm_checks("carbonflow assets alarms", ("assets",), args)


def _cmd_alarms(args: argparse.Namespace) -> int:
    from carbonflow.platform_alarms import CHECKS

    return _run_alarm_checks("carbonflow alarms check", tuple(args.only or CHECKS), args)


def _run_alarm_checks(command: str, names: tuple[str, ...], args: argparse.Namespace) -> int:
    import asyncio
    import logging

    import psycopg

    from carbonflow.platform_alarms import describe, run_checks

    settings = _db_settings(command.rsplit(" ", 1)[0])
    if settings is None:
        return 2
    if args.poll <= 0:
        print(f"{command}: --poll must be a positive number of seconds", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        checks = asyncio.run(run_checks(settings.database_url, names=names, once=args.once, poll_s=args.poll))
    except psycopg.Error as exc:
        print(f"{command}: the check failed: {exc}; check DATABASE_URL and that the database is"
              " migrated (carbonflow db migrate)", file=sys.stderr)
        return 1
    for name, check in (checks or {}).items():
        lines = describe(name, check)
        print(lines[0] if len(names) == 1 else f"{name} {lines[0]}")
        for line in lines[1:]:
            print(line)
        for problem in check.problems:
            print(f"  {'cannot project' if name == 'assets' else 'cannot track'} {problem}", file=sys.stderr)
    return 0


def _monitoring_recompute(url: str, reason: str) -> int:
    import asyncio

    import psycopg

    from api.audit import auditlog
    from api.monitoring.recompute import recompute
    from carbon_domain.errors import DomainError

    async def run() -> int:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            try:
                done = await recompute(conn, reason=reason, by="carbonflow monitoring recompute")
            except DomainError as exc:
                print(f"cannot recompute the figures: {exc}", file=sys.stderr)
                return 1
            await auditlog.record(conn, action="monitoring.figures.recompute", client_ip=None,
                                  actor="carbonflow monitoring recompute", actor_kind="system",
                                  target=f"monitoring_batch:{done.batch_id}", detail={**done.as_dict(), "reason": reason})
        print(f"recomputed: {done.changed} figure(s) changed over {done.months} month(s), batch {done.batch_id}")
        return 0

    return asyncio.run(run())


def _monitoring_meter_months(url: str, args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC, datetime

    import psycopg

    from api.audit import auditlog
    from api.monitoring.metering import last_months, meter_months
    from carbon_domain.errors import DomainError

    today = datetime.now(UTC).date()
    try:
        last = _month_arg(args.to) if args.to else last_months(today, 1)[1]
        first = _month_arg(args.start) if args.start else last_months(date(last.year + (last.month == 12),
                                                                           last.month % 12 + 1, 1), 3)[0]
    except ValueError as exc:
        print(f"carbonflow monitoring meter-months: {exc}", file=sys.stderr)
        return 2
    if first > last:
        print(f"carbonflow monitoring meter-months: --from {first:%Y-%m} is after --to {last:%Y-%m}", file=sys.stderr)
        return 2

    async def run() -> int:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            try:
                done = await meter_months(conn, first=first, last=last, by="carbonflow monitoring meter-months")
            except DomainError as exc:
                print(f"cannot compute the metered figures: {exc}", file=sys.stderr)
                return 1
            await auditlog.record(conn, action="monitoring.figures.metered", client_ip=None,
                                  actor="carbonflow monitoring meter-months", actor_kind="system",
                                  target=f"monitoring_batch:{done.batch_id}",
                                  detail={**done.as_dict(), "from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"})
        summary = done.as_dict()
        print(f"metered months {first:%Y-%m}..{last:%Y-%m}: {summary['units']} unit(s), {summary['figures']} figure(s),"
              f" {summary['stored']} stored, {summary['unchanged']} unchanged, {summary['kept_reported']} kept as"
              f" reported; batch {summary['batch_id']}")
        return 0

    return asyncio.run(run())


def _monitoring_schedule(url: str, args: argparse.Namespace) -> int:
    import asyncio
    import logging

    import psycopg

    from api.monitoring.schedule import run_schedule

    if args.poll <= 0 or args.months < 1 or args.meter_every <= 0:
        print("carbonflow monitoring schedule: --poll and --meter-every are positive numbers of seconds, --months at"
              " least 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        done = asyncio.run(run_schedule(url, once=args.once, poll_s=args.poll, months=args.months,
                                        meter_every_s=args.meter_every))
    except psycopg.Error as exc:
        print(f"carbonflow monitoring schedule: the round failed: {exc}; check DATABASE_URL and that the database is"
              " migrated (carbonflow db migrate)", file=sys.stderr)
        return 1
    if done is None:
        return 0
    if done.recomputed is None:
        print("recompute: the factor library is unchanged since the last recomputation")
    else:
        print(f"recomputed: {done.recomputed.changed} figure(s) changed over {done.recomputed.months} month(s),"
              f" batch {done.recomputed.batch_id}")
    if done.metered is None or done.months is None:
        print(f"meter-months: not due (the last run is less than {args.meter_every:.0f} s old)")
    else:
        summary = done.metered.as_dict()
        print(f"metered months {done.months[0]:%Y-%m}..{done.months[1]:%Y-%m}: {summary['units']} unit(s),"
              f" {summary['figures']} figure(s), {summary['stored']} stored, {summary['unchanged']} unchanged,"
              f" {summary['kept_reported']} kept as reported; batch {summary['batch_id']}")
    for error in done.errors:
        print(error, file=sys.stderr)
    return 1 if done.errors else 0


def _month_arg(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a month; write YYYY-MM, e.g. 2026-03") from None


def _cmd_seed(args: argparse.Namespace) -> int:
    import asyncio

    from carbonflow.demo.region_seed import YEARS, seed_region

    settings = _db_settings("carbonflow seed", " (migrated: carbonflow db migrate)")
    if settings is None:
        return 2
    done = asyncio.run(seed_region(settings.database_url, seed=args.seed))
    print(f"synthetic prefecture (seed {args.seed}): {done['units']} units, {done['figures']} figures,"
          f" {done['stored']} stored now; 碳效码 computed, {done['coded']} units coded in {YEARS[-1]}")
    return 0


def _cmd_edge(args: argparse.Namespace) -> int:
    from edge_agent.agent import run_agent
    from edge_agent.errors import EdgeError

    if args.action == "status":
        return _cmd_edge_status(args)
    try:
        return run_agent(args.config)
    except EdgeError as exc:
        print(f"carbonflow edge: {exc}", file=sys.stderr)
        return 2


def _cmd_edge_status(args: argparse.Namespace) -> int:
    from edge_agent.config import ConfigError, load_agent_config
    from edge_agent.status import gather_status, render_status

    try:
        config = load_agent_config(args.config)
    except ConfigError as exc:
        print(f"carbonflow edge status: {exc}", file=sys.stderr)
        return 2
    status = gather_status(config)
    print(render_status(status), end="")
    return 0 if status.running else 1


_INGEST_HELP = """\
Run the MQTT -> Kafka bridge. Configured from the environment: MQTT_URL, MQTT_CA,
MQTT_CERT, MQTT_KEY, KAFKA_BOOTSTRAP, DATABASE_URL (gateway registry), INGEST_CLIENT_ID.

Scaling out: run N workers with INGEST_PARTITION=0/N ... N-1/N (same DATABASE_URL and
INGEST_CLIENT_ID). Worker i subscribes, with its own persistent session, to the registered
gateways whose crc32(id) mod N is i; while it is down the broker queues its gateways'
batches for it, so they wait instead of being lost. To change N, start the new set before
stopping the old one (duplicates are dropped by gateway and sequence), then run
`carbonflow ingest --retire` with each old INGEST_PARTITION. See docs/ingest.md.
"""


def _cmd_ingest(args: argparse.Namespace) -> int:
    from carbonflow.gc_tuning import tune_gc_for_batches
    from ingest.bridge import run_bridge

    tune_gc_for_batches()
    return run_bridge(retire=args.retire)


def _cmd_stream(args: argparse.Namespace) -> int:
    from carbonflow.db.compaction import compaction_settings
    from stream_jobs.alarms import alarm_settings_from_env

    try:
        alarm_settings_from_env()  # refuse to start with a wrong alarm threshold (the agents read them again)
        compaction_settings()  # or a wrong compaction horizon
    except ValueError as exc:
        print(f"carbonflow stream: {exc}", file=sys.stderr)
        return 2
    sys.argv = [sys.argv[0], "worker"]
    from stream_jobs.worker import run_worker

    return run_worker(args.loglevel)


def _cmd_login(args: argparse.Namespace) -> int:
    from carbonflow.cert_login import CertLoginError, login_with_certificate

    try:
        answer = login_with_certificate(args.api, cert=args.cert, key=args.key, verify=args.ca or True)
    except CertLoginError as exc:
        print(f"carbonflow login: {exc}", file=sys.stderr)
        return 1
    print(answer["token"])
    print(f"expires {answer['expires_at']}, scopes {','.join(answer['scopes'])}, as {answer['username']}",
          file=sys.stderr)
    return 0


def _cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")
    return 0


def _scenario_names() -> list[str]:
    """The packaged simulator scenarios, found without importing the simulators (and their protocol stacks)."""
    from importlib.util import find_spec

    spec = find_spec("simulators")
    folders = [Path(p) / "scenarios" for p in (spec.submodule_search_locations or [])] if spec else []
    return sorted(f.stem for folder in folders if folder.is_dir() for f in folder.glob("*.yaml"))


def _scenario(value: str) -> str:
    """A packaged scenario's name or a scenario file, else an error that lists the names."""
    if value in _scenario_names() or Path(value).is_file():
        return value
    raise argparse.ArgumentTypeError(f"unknown scenario {value!r}: choose {', '.join(_scenario_names())}"
                                     " or give a scenario YAML file")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carbonflow", description="Industrial carbon platform")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="run the whole pipeline on embedded defaults")
    p.add_argument("--scenario", default="demo", type=_scenario, metavar="{" + ",".join(_scenario_names()) + "}",
                   help="the simulated plant: demo (default: one site, 4 devices, real time) or steelworks (an"
                        " integrated works, 23 devices, simulated time 60x faster than real time); see docs/demo.md")
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("certs", help="make a dev CA, broker and client certificates")
    p.add_argument("--gateway", action="append", default=[], help="gateway id (repeatable)")
    p.add_argument("--dir", type=Path)
    p.set_defaults(func=_cmd_certs)
    p = sub.add_parser("db", help="database maintenance")
    p.add_argument("action", choices=["migrate", "retain", "compact", "backup", "restore"],
                   help="migrate: apply migrations as MIGRATION_DATABASE_URL's role (the owner) and grant"
                        " DATABASE_URL's role (the application) its privileges (docs/database.md); retain: drop"
                        " data older than the retention; compact: move closed hours of raw readings into"
                        " compressed blocks (docs/storage.md), as the owner when MIGRATION_DATABASE_URL is set; backup / restore:"
                        " pg_dump into / pg_restore from --file as the owner, or the embedded server without"
                        " DATABASE_URL (docs/operations.md)")
    p.add_argument("--file", type=Path, help="backup: where to write (default <home>/backups/carbonflow-<UTC>.dump);"
                                              " restore: the backup to restore into an empty database")
    p.add_argument("--raw-days", type=int,
                   help="keep raw readings this many days (CARBONFLOW_RAW_RETENTION_DAYS, 400; 1 to 36525)")
    p.add_argument("--hourly-days", type=int,
                   help="keep hourly data this many days (CARBONFLOW_HOURLY_RETENTION_DAYS, 1830; 1827 to 36525,"
                        " not less than --raw-days)")
    p.add_argument("--older-than", type=int, metavar="MINUTES",
                   help="compact hours closed this long ago (CARBONFLOW_COMPACT_AFTER_MINUTES, 120; at least 60)")
    p.set_defaults(func=_cmd_db)
    p = sub.add_parser("recompute", help="recalculate a site's emissions for a period (after a factor change)")
    p.add_argument("--site", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.set_defaults(func=_cmd_recompute)
    p = sub.add_parser("monitoring", help="government monitoring: run the intermediate-database sync, recompute "
                                          "tCO2/tce after a factor change, make metered monthly figures, or run the "
                                          "last two when due (schedule)")
    p.add_argument("action", choices=["sync", "recompute", "meter-months", "schedule"])
    p.add_argument("--reason", default="factor library changed",
                   help="recompute: what changed in the factor library (recorded with the batch and audited)")
    p.add_argument("--from", dest="start", help="meter-months: first month YYYY-MM (default: three months before --to)")
    p.add_argument("--to", help="meter-months: last month YYYY-MM (default: the last complete month)")
    p.add_argument("--once", action="store_true", help="sync, schedule: run what is due once and exit (for cron)")
    p.add_argument("--poll", type=float, default=60.0, help="sync, schedule: seconds between looks for what is due")
    p.add_argument("--months", type=int, default=3,
                   help="schedule: meter this many complete months back from the last one (default 3)")
    p.add_argument("--meter-every", type=float, default=86400.0,
                   help="schedule: seconds between metered runs (default 86400, daily)")
    p.set_defaults(func=_cmd_monitoring)
    p = sub.add_parser("assets", help="carbon assets: raise and clear the projected-deficit and deadline alarms")
    p.add_argument("action", choices=["alarms"])
    p.add_argument("--once", action="store_true", help="check once and exit (for cron)")
    p.add_argument("--poll", type=float, default=3600.0, help="seconds between checks (default 3600)")
    p.set_defaults(func=_cmd_assets)
    p = sub.add_parser("alarms", help="platform alarms: run every platform alarm check (carbon assets, target "
                                      "tracking) now and periodically")
    p.add_argument("action", choices=["check"])
    p.add_argument("--only", action="append", choices=["assets", "targets"],
                   help="run only this check (repeatable; default all)")
    p.add_argument("--once", action="store_true", help="check once and exit (for cron)")
    p.add_argument("--poll", type=float, default=3600.0, help="seconds between checks (default 3600)")
    p.set_defaults(func=_cmd_alarms)
    p = sub.add_parser("seed", help="seed demo data: a synthetic prefecture for government monitoring")
    p.add_argument("what", choices=["region"])
    p.add_argument("--seed", type=int, default=2026, help="the generator's seed (same seed, same data)")
    p.set_defaults(func=_cmd_seed)
    p = sub.add_parser("gateways", help="register, list and revoke gateways (writes the broker ACL); bind a device")
    p.add_argument("action", choices=["add", "list", "revoke", "bind"])
    p.add_argument("gateway", nargs="?", default="")
    p.add_argument("--site")
    p.add_argument("--device", help="bind: the device to move to the gateway (audited)")
    p.add_argument("--password", action="store_true", help="authenticate with a password instead of a certificate")
    p.add_argument("--broker-dir", type=Path, help="where the broker's ACL lives (default <home>/mqtt)")
    p.set_defaults(func=_cmd_gateways)
    p = sub.add_parser("registry", help="create or update an enterprise, its sites and devices from a YAML file")
    p.add_argument("action", choices=["apply"])
    p.add_argument("file", type=Path, help="site registry: enterprise_id, enterprise_name, region, industry, "
                                           "sites (id, name, province, grid_region), devices")
    p.set_defaults(func=_cmd_registry)
    p = sub.add_parser("edge", help="run an edge agent, or show a running agent's status")
    p.add_argument("action", choices=["run", "status"])
    p.add_argument("--config", type=Path, required=True)
    p.set_defaults(func=_cmd_edge)
    p = sub.add_parser("ingest", help="run the MQTT -> Kafka bridge", description=_INGEST_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--retire", action="store_true",
                   help="end this worker's broker session (subscriptions and queued batches) and exit;"
                        " for the old workers after changing N")
    p.set_defaults(func=_cmd_ingest)
    p = sub.add_parser("stream", help="run the faust stream worker")
    p.add_argument("--loglevel", default="warn", choices=["crit", "error", "warn", "info", "debug"])
    p.set_defaults(func=_cmd_stream)
    p = sub.add_parser("login", help="log in to the API with a client certificate; prints a machine token")
    p.add_argument("--cert", type=Path, required=True, help="PEM certificate (chain), the client's first")
    p.add_argument("--key", type=Path, required=True, help="its PEM private key (unencrypted)")
    p.add_argument("--api", default="http://127.0.0.1:8000", help="the API's base URL")
    p.add_argument("--ca", help="CA file to verify an https API with")
    p.set_defaults(func=_cmd_login)
    p = sub.add_parser("api", help="run the HTTP API and dashboard")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_cmd_api)
    sub.add_parser("simulate", help="run device simulators (see `carbonflow simulate --help`)", add_help=False)
    sub.add_parser("profiles", help="validate and show device profiles", add_help=False)
    sub.add_parser("inventory", help="compute a GHG inventory from an activity-data file", add_help=False)
    sub.add_parser("import", help="import manual readings from CSV/XLSX into the pipeline", add_help=False)
    sub.add_parser("factors", help="electricity-carbon factors: fit | simulate | verify (docs/grid_factors.md)",
                   add_help=False)
    return parser


def _use_running_demo(command: str) -> None:
    """Point a command at the demo running under CARBONFLOW_HOME when neither DATABASE_URL nor KAFKA_BOOTSTRAP is
    set (carbonflow/running_demo.py), saying so on stderr."""
    import os

    from carbonflow.running_demo import DEMO_FILE, demo_environment
    from carbonflow.settings import DEFAULT_HOME

    home = Path(os.environ.get("CARBONFLOW_HOME", str(DEFAULT_HOME)))
    found = demo_environment(home, os.environ)
    if found:
        os.environ.update(found)
        print(f"carbonflow {command}: using the running demo's database and Kafka ({home / DEMO_FILE});"
              " set DATABASE_URL / KAFKA_BOOTSTRAP to use others", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] != "demo" and not argv[0].startswith("-"):
        _use_running_demo(argv[0])
    if argv and argv[0] == "simulate":
        from simulators.cli import main as simulate_main

        return simulate_main(argv[1:])
    if argv and argv[0] == "import":
        from ingest.file_import import main as import_main

        return import_main(argv[1:])
    if argv and argv[0] == "inventory":
        from carbonflow.inventory_cli import main as inventory_main

        return inventory_main(argv[1:])
    if argv and argv[0] == "factors":
        from carbonflow.grid_factors_cli import main as factors_main

        return factors_main(argv[1:])
    if argv and argv[0] == "profiles":
        from device_profiles.cli import main as profiles_main

        return profiles_main(argv[1:])
    args = _parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
