"""alarms: active and past alarms, and the implausible counter readings waiting for someone to check them.

Other services raise and clear alarms of the platform itself (tied to no device) with `raise_platform_alarm` and
`clear_platform_alarm`."""

from api.alarms.queries import clear_platform_alarm, raise_platform_alarm

__all__ = ["clear_platform_alarm", "raise_platform_alarm"]
