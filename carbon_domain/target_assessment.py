"""End-of-period assessment of carbon targets (issue 21): each holder's actual against its allocation, ranked,
and set beside the holder's result in an earlier period (docs/analysis.md, "Targets").

A total target is met when the period's CO2 (t) is at most target × (1 + tolerance); an intensity target when
Σ CO2 / Σ value added over the period is. A result is final only when every month of the period has figures;
before that it is provisional.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from carbon_domain.errors import FormulaInputError

__all__ = ["Actual", "Result", "assess", "compare_periods"]


@dataclass(frozen=True)
class Actual:
    """A holder's figures over the months of the period that have them."""

    co2: float
    activity: float
    months: int


@dataclass(frozen=True)
class Result:
    """One holder's assessment; `actual` and `gap_rate` are None when it has no figures (or no value added
    for an intensity target). `rank` 1 is the holder furthest below its target."""

    holder: str
    base: float
    target: float
    actual: float | None
    gap: float | None  # actual - target
    gap_rate: float | None  # actual / target - 1
    change: float | None  # actual / base - 1
    met: bool | None
    final: bool
    rank: int | None


def _value(kind: str, actual: Actual | None) -> float | None:
    if actual is None or actual.months == 0:
        return None
    if kind == "total":
        return actual.co2
    return actual.co2 / actual.activity if actual.activity > 0 else None


def assess(kind: str, allocations: Sequence[tuple[str, float, float]], actuals: Mapping[str, Actual], *,
           months_in_period: int = 12, tolerance: float = 0.0) -> list[Result]:
    """Assesses `allocations` (holder, base, target) against `actuals`, in the allocations' order.

    Example: a total target of 90 t against an actual 81 t over 12 of 12 months -> gap -9, gap_rate -0.1, met.
    """
    if kind not in ("total", "intensity"):
        raise FormulaInputError(f"unknown target kind {kind!r}; use 'total' or 'intensity'")
    if months_in_period < 1:
        raise FormulaInputError(f"a period needs at least one month, got {months_in_period}")
    if not 0 <= tolerance <= 1:
        raise FormulaInputError(f"tolerance is a fraction in [0, 1], got {tolerance}")
    rows = []
    for holder, base, target in allocations:
        found = actuals.get(holder)
        value = _value(kind, found)
        final = found is not None and found.months >= months_in_period
        if value is None:
            rows.append(Result(holder, base, target, None, None, None, None, None, final, None))
            continue
        gap_rate = value / target - 1 if target > 0 else None
        rows.append(Result(holder, base, target, value, value - target, gap_rate,
                           value / base - 1 if base > 0 else None, value <= target * (1 + tolerance), final, None))
    ranked = sorted((r for r in rows if r.gap_rate is not None), key=lambda r: (r.gap_rate, r.holder))
    ranks = {r.holder: i for i, r in enumerate(ranked, start=1)}
    return [Result(**{**r.__dict__, "rank": ranks.get(r.holder)}) for r in rows]


def compare_periods(current: Sequence[Result], earlier: Sequence[Result]) -> dict[str, float | None]:
    """Per holder of `current`: the change of its gap rate against its gap rate in the earlier period (negative
    is an improvement), None when either is missing."""
    before = {r.holder: r.gap_rate for r in earlier}
    out: dict[str, float | None] = {}
    for r in current:
        earlier_rate = before.get(r.holder)
        out[r.holder] = None if r.gap_rate is None or earlier_rate is None else r.gap_rate - earlier_rate
    return out
