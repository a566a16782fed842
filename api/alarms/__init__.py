"""alarms: active and past alarms, and the implausible counter readings waiting for someone to check them.

Other services raise and clear alarms of the platform itself (tied to no device, possibly about an enterprise) with
`raise_platform_alarm` and `clear_platform_alarm`; a periodic checker clears what no longer holds with
`clear_platform_alarms_except`."""

from api.alarms.queries import clear_platform_alarm, clear_platform_alarms_except, raise_platform_alarm

__all__ = ["clear_platform_alarm", "clear_platform_alarms_except", "raise_platform_alarm"]
