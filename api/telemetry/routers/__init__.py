"""The HTTP surface of telemetry: series, live, export, export_scope."""

__all__: list[str] = []
