"""alarms: active and past alarms, and the implausible counter readings waiting for someone to check them."""

__all__: list[str] = []
