"""The government monitoring service: regions, industries, emission units and their monthly figures
(docs/monitoring.md). `router` is its HTTP surface, `queries` its storage, `intake` turns files and pushed
figures into checked lines; the formulas live in carbon_domain.monitoring."""

from api.monitoring.router import router

__all__ = ["router"]
