"""Electricity-carbon factors (电碳因子): regional flow-traced factors, the enterprise factor library,
electricity -> fuel models and the third-party check. Formulas in `carbon_domain.grid_factors`."""

from api.grid_factors.router import router

__all__ = ["router"]
