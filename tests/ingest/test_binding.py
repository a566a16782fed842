"""A gateway writes only its own devices: the verdict for each device batch, and the registry copy ingest keeps."""

from __future__ import annotations

import time

import pytest

from carbonflow.device_bindings import Bound, Registry, auto_register_setting
from ingest.binding import DeviceBindings, after_claim, judge

GW, SITE = "gw-a", "site-a"


@pytest.mark.parametrize(("bound", "gateway_site", "auto", "admit", "claim", "reason"), [
    (Bound(GW, SITE), SITE, False, True, False, ""),
    (Bound("gw-c", "site-c"), SITE, False, False, False, ("device 'dev' is bound to gateway 'gw-c', not 'gw-a'; an "
     "administrator moves a device with `carbonflow gateways bind gw-a --device dev`")),
    (Bound("gw-c", "site-c"), SITE, True, False, False, "is bound to gateway 'gw-c'"),
    (None, SITE, False, False, False, "device 'dev' is not registered; register it with gateway_id 'gw-a'"),
    (None, SITE, True, False, True, ""),
    (Bound(None, SITE), SITE, False, False, False, "device 'dev' is registered but bound to no gateway"),
    (Bound(None, SITE), SITE, True, False, True, ""),
    (Bound(None, None), SITE, True, False, True, ""),
    (Bound(None, "site-c"), SITE, True, False, False, ("device 'dev' is at site 'site-c' and gateway 'gw-a' serves "
     "site 'site-a'; a gateway claims only devices of its own site")),
    (Bound(None, "site-c"), None, True, False, False, "gateway 'gw-a' serves no site"),
], ids=["own", "foreign", "foreign-auto-register-on", "unknown-off", "unknown-on", "unbound-off", "unbound-on",
        "unbound-without-site-on", "unbound-other-site-on", "unbound-gateway-without-site-on"])
def test_verdict_admits_only_the_gateways_own_devices_and_says_why_not(
        bound: Bound | None, gateway_site: str | None, auto: bool, admit: bool, claim: bool, reason: str) -> None:
    verdict = judge(GW, "dev", bound, gateway_site=gateway_site, auto_register=auto)
    assert (verdict.admit, verdict.claim, reason in verdict.reason) == (admit, claim, True)


def test_a_claim_lost_to_another_gateway_is_refused_naming_the_winner() -> None:
    verdict = after_claim(GW, "dev", Bound("gw-b", SITE), gateway_site=SITE)
    assert (verdict.admit, "bound to gateway 'gw-b'" in verdict.reason) == (False, True)
    assert after_claim(GW, "dev", Bound(GW, SITE), gateway_site=SITE).admit


@pytest.mark.parametrize(("raw", "expected"), [(None, False), ("", False), ("off", False), ("on", True),
                                               (" ON ", True)])
def test_auto_registration_is_off_unless_set_on(raw: str | None, expected: bool) -> None:
    env = {} if raw is None else {"CARBONFLOW_AUTO_REGISTER_DEVICES": raw}
    assert auto_register_setting(env, "ingest") is expected


@pytest.mark.parametrize("raw", ["yes", "1", "true", "enabled"])
def test_an_auto_registration_setting_other_than_on_or_off_stops_the_service(raw: str) -> None:
    refusal = f"ingest: CARBONFLOW_AUTO_REGISTER_DEVICES must be 'on' or 'off', got '{raw}'"
    with pytest.raises(SystemExit, match=refusal):
        auto_register_setting({"CARBONFLOW_AUTO_REGISTER_DEVICES": raw}, "ingest")


def test_a_move_reaches_the_registry_copy_within_one_refresh_interval() -> None:
    registry = {"dev": Bound("gw-old", SITE)}

    def load() -> Registry:
        return Registry(dict(registry), {"gw-old": SITE, "gw-new": SITE})

    bindings = DeviceBindings(load, refresh_s=0.2)
    bindings.refresh_if_due()
    registry["dev"] = Bound("gw-new", SITE)  # an administrator moves the device
    assert bindings.judge("gw-old", "dev", auto_register=False).admit  # the copy is at most 0.2 s old
    time.sleep(0.25)
    assert bindings.refresh_if_due()
    old, new = (bindings.judge(g, "dev", auto_register=False) for g in ("gw-old", "gw-new"))
    assert (old.admit, "bound to gateway 'gw-new'" in old.reason, new.admit) == (False, True, True)


def test_the_registry_copy_survives_a_failed_reload() -> None:
    answers: list[object] = [Registry({"dev": Bound(GW, SITE)}, {GW: SITE}), RuntimeError("db down")]

    def load() -> Registry:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    bindings = DeviceBindings(load, refresh_s=0)
    assert (bindings.refresh_if_due(), bindings.refresh_if_due()) == (True, False)
    assert bindings.judge(GW, "dev", auto_register=False).admit


def test_ingest_reads_auto_registration_from_its_environment() -> None:
    from ingest.bridge import bridge_config_from_env

    base = {"MQTT_URL": "mqtts://broker:8883", "KAFKA_BOOTSTRAP": "kafka:9092"}
    assert (bridge_config_from_env(base).auto_register,
            bridge_config_from_env({**base, "CARBONFLOW_AUTO_REGISTER_DEVICES": "on"}).auto_register) == (False, True)
