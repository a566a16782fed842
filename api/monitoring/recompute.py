"""Recomputing the stored tCO2 and tce of monitoring figures after the factor library changed.

The coefficients (tCO2 and tce per storage unit, and the factor rows behind them) are resolved once per energy type
and month from the library as it is now, with the same FigureCalculator as every intake; the figures are then
recomputed set-wise in the database, a range of units per transaction. Only a figure whose values change gets a new
revision (its quantity and source unchanged), tied to one batch of source 'recompute' whose origin says why; the
totals follow. The caller audits the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from api.accounting.queries import load_library
from api.monitoring import queries
from carbon_domain.monitoring import EnergyType, FigureCalculator

__all__ = ["Recomputation", "recompute"]

_UNITS_PER_TRANSACTION = 5000


@dataclass(frozen=True)
class Recomputation:
    batch_id: int
    changed: int
    months: int
    factor_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "changed": self.changed, "months": self.months,
                "factor_ids": list(self.factor_ids)}


async def recompute(conn: psycopg.AsyncConnection, *, reason: str, by: str) -> Recomputation:
    """Recompute every stored energy figure's tCO2/tce with the current factor library (DomainError when a month
    has no factor)."""
    calculator = FigureCalculator(await load_library(conn))
    energy = {kind.value for kind in EnergyType}
    pairs = [(item, month) for item, month in await queries.figure_months(conn) if item in energy]
    coefficients = []
    for item, month in pairs:
        per_unit = calculator.energy(item, 1.0, month)
        coefficients.append((item, month, per_unit.tco2, per_unit.tce, per_unit.factor_ids))
    months = {month for _, month in pairs}
    factor_ids = tuple(sorted({f for *_, ids in coefficients for f in ids}))
    batch_id = await queries.create_batch(conn, source="recompute", origin=f"recompute: {reason}"[:500], sha256=None,
                                          by=by)
    first, last = await queries.unit_id_range(conn)
    changed = 0
    for low in range(first, last + 1, _UNITS_PER_TRANSACTION):
        async with conn.transaction():
            changed += await queries.recompute_figures(conn, coefficients=coefficients, first_unit=low,
                                                       last_unit=low + _UNITS_PER_TRANSACTION - 1,
                                                       batch_id=batch_id, by=by)
    await queries.finish_batch(conn, batch_id=batch_id, read=changed, stored=changed, same=0, refused=0)
    return Recomputation(batch_id, changed, len(months), factor_ids)
