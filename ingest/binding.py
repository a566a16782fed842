"""A gateway writes only its own devices: each device batch is judged against the device's binding.

Admitted: a device bound to the sending gateway. Claimed (then admitted), only with auto-registration on: an
unknown device, registered under the gateway's site, or a registered device bound to no gateway whose site is the
gateway's (or unset). Refused, with a reason that says what to do: a device bound to another gateway, an unknown or
unbound device with auto-registration off, and an unbound device of another site. Over MQTT a refused batch is
dead-lettered; over HTTP it is dead-lettered and named in the answer (docs/ingest.md, "Device bindings").

The MQTT bridge judges against a copy of the registry reloaded every INGEST_REGISTRY_REFRESH_S; what the copy
refuses or would claim is judged again against the database before it is refused, so that a device moved to a
gateway is accepted from it at once, and the old gateway is refused within one refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carbonflow.device_bindings import AUTO_REGISTER_VARIABLE, Bound, Registry
from ingest.admission import RefreshedView

__all__ = ["Verdict", "judge", "after_claim", "DeviceBindings"]

_MOVE_HINT = ("an administrator moves a device with `carbonflow gateways bind {gateway} --device {device}` or PUT "
              "/api/v1/devices/{device}/gateway")


@dataclass(frozen=True)
class Verdict:
    """admit: forward the batch; claim: bind the device to the gateway first; otherwise refuse with `reason`."""

    admit: bool = False
    claim: bool = False
    reason: str = ""


ADMIT = Verdict(admit=True)
CLAIM = Verdict(claim=True)


def judge(gateway: str, device: str, bound: Bound | None, *, gateway_site: str | None,
          auto_register: bool) -> Verdict:
    """Whether `gateway` may write `device`, given the device's binding (None: not registered)."""
    if bound is not None and bound.gateway == gateway:
        return ADMIT
    if bound is not None and bound.gateway is not None:
        return Verdict(reason=f"device {device!r} is bound to gateway {bound.gateway!r}, not {gateway!r}; "
                              + _MOVE_HINT.format(gateway=gateway, device=device))
    if bound is None and not auto_register:
        return Verdict(reason=f"device {device!r} is not registered; register it with gateway_id {gateway!r} "
                              f"(POST /api/v1/devices, or `gateway: {gateway}` in the site registry), or turn on "
                              f"{AUTO_REGISTER_VARIABLE} to register unknown devices under their gateway's site")
    if bound is None:
        return CLAIM
    if not auto_register:
        return Verdict(reason=f"device {device!r} is registered but bound to no gateway; "
                              + _MOVE_HINT.format(gateway=gateway, device=device))
    if bound.site is not None and bound.site != gateway_site:
        return Verdict(reason=f"device {device!r} is at site {bound.site!r} and gateway {gateway!r} serves "
                              f"{'site ' + repr(gateway_site) if gateway_site else 'no site'}; a gateway claims only "
                              f"devices of its own site: " + _MOVE_HINT.format(gateway=gateway, device=device))
    return CLAIM


def after_claim(gateway: str, device: str, bound: Bound | None, *, gateway_site: str | None) -> Verdict:
    """The verdict once the claim was made: admitted when the device is now the gateway's, else refused (another
    gateway claimed it first, or the gateway was revoked meanwhile)."""
    verdict = judge(gateway, device, bound, gateway_site=gateway_site, auto_register=True)
    if verdict.claim:
        return Verdict(reason=f"device {device!r} could not be bound to gateway {gateway!r}: the gateway is not "
                              f"active; register it with `carbonflow gateways add {gateway}`")
    return verdict


class DeviceBindings(RefreshedView[Registry]):
    """The registry's device bindings and gateway sites, reloaded at most every `refresh_s` seconds."""

    def __init__(self, load: Callable[[], Registry], refresh_s: float = 10.0) -> None:
        super().__init__(load, Registry({}, {}), refresh_s, "device bindings")

    def judge(self, gateway: str, device: str, *, auto_register: bool) -> Verdict:
        return judge(gateway, device, self._view.devices.get(device),
                     gateway_site=self._view.gateway_sites.get(gateway), auto_register=auto_register)

    def learn(self, found: dict[str, Bound]) -> None:
        """Take the bindings just read from the database (after a claim or a re-check) until the next reload."""
        self._view.devices.update(found)
