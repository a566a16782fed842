"""The analysis and planning service: decoupling, LMDI decomposition, the Kaya view, peak forecasts under
saved scenarios, and targets set, issued and tracked (docs/analysis.md). `router` is its HTTP surface,
`queries` its storage and its reading of the monitoring figures; the formulas live in carbon_domain.analysis."""

from api.analysis.router import router

__all__ = ["router"]
