"""The carbon-assets service: allowances per year, holdings, the transaction ledger (CSV export), emissions and
the compliance position with its year-end projection, trading costs and strategy suggestion.

`router` is the HTTP surface (/api/v1/assets), `queries` the storage (migration 122), `schemas` the request and
response models. The formulas are `carbon_domain.assets`; docs/projects.md describes the service.
"""

from api.assets.router import router

__all__ = ["router"]
