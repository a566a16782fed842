"""The HTTP surface of alarms: alarms, implausible."""

__all__: list[str] = []
