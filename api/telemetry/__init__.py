"""telemetry: a point's series, live values and the auditor exports of readings and emissions."""

__all__: list[str] = []
