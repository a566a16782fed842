"""audit: the append-only audit log (`auditlog`) every change by a user is written to, and its reader (`router`)."""

__all__: list[str] = []
