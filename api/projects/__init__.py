"""The reduction-projects service: registry and lifecycle, documents, budget, bound points, settled fees, monitoring
periods (ER = BE - PE - LE) and their certification.

`router` is the HTTP surface (/api/v1/projects), `queries` the storage (migrations 120 and 121), `schemas` the
request and response models, `fee_import` the reader of settled-fee CSV files. The formulas are `carbon_domain.projects`; docs/projects.md describes the service.
"""

from api.projects.router import router

__all__ = ["router"]
