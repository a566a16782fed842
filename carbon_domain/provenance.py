"""Where an emission figure comes from: the formula version it names, and the same computation redone.

A stored emission interval names the factor rows (`factor_ids`) and the formula version the stream job used.
`recompute_interval` runs `emission_for_activity`, the function the stream job runs, again on the interval's
activity amount with exactly those rows, so a reader can check that the figure follows from its inputs: a
different answer means the stored figure was computed with other rows or another formula version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from carbon_domain.accounting import ActivityEmission, emission_for_activity
from carbon_domain.errors import FormulaInputError
from carbon_domain.factors import FactorLibrary, FactorRow, Scope

__all__ = ["formula_parts", "recompute_interval"]


def formula_parts(formula: str) -> tuple[str, str | None]:
    """(formula name, version) of a stored formula such as 'electricity/gbt32150-2015@2025.1'; the version is
    None when the stored text names none.

    >>> formula_parts("combustion/gbt32150-2015@2025.1")
    ('combustion/gbt32150-2015', '2025.1')
    """
    name, at, version = formula.partition("@")
    return name, (version or None) if at else None


def recompute_interval(activity: str, quantity: float, unit: str, at: datetime,
                       rows: Sequence[FactorRow]) -> ActivityEmission:
    """The emission of one interval recomputed with exactly the factor rows it names (`rows`, in its order),
    as the stream job computed it: electricity with its grid row, heat and fuels resolved among `rows` alone."""
    if not rows:
        raise FormulaInputError(f"no factor rows to recompute the {activity} interval at {at.isoformat()} with")
    library = FactorLibrary(rows)
    # a scoped row (a device's or an enterprise's own value) applies only when the chain names its scope
    chain = [(r.scope.value, r.scope_id) for r in rows if r.scope is not Scope.NATIONAL]
    grid = rows[0] if activity == "electricity" else None
    return emission_for_activity(activity, quantity, unit, at, library, scope_chain=chain, grid=grid)
