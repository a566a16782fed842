"""Carbon assets of an enterprise: allowances, the transaction ledger, the compliance position, the year-end
projection and the trading cost under price scenarios.

Instruments: ``allowance`` (配额, by vintage year), ``ccer`` and ``certified_reduction`` (a platform project's
certified reductions). A ledger entry moves one instrument of one vintage; balances never go negative.

Compliance position of a year (national ETS practice, offset cap configurable, 5 % by default [check]):

    usable offsets = min(offsets held, cap x verified emissions)
    position       = allowances + usable offsets - verified emissions   (> 0 surplus, < 0 deficit)

Projection: the year-end emissions are the recorded months plus the mean of the recorded months for each month
not yet recorded (a run rate; seasonal plants should enter a forecast instead).

Strategy suggestion (documented, deliberately simple): with a projected deficit, buy the deficit; buy it now when
the current price is at or below the mean of the price scenarios, else in equal monthly lots up to the deadline.
With a projected surplus, keep a buffer (10 % of the projected emissions by default) and offer the rest for sale
when the current price is at or above the scenario mean, else hold.

>>> compliance_position(verified_tco2=1000, allowances=950, offsets_held=80, offset_cap=0.05).position
0.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from carbon_domain.errors import AssetError

__all__ = [
    "DEFAULT_OFFSET_CAP",
    "Balance",
    "CompliancePosition",
    "Entry",
    "EntryKind",
    "Instrument",
    "OFFSETS",
    "Projection",
    "ScenarioCost",
    "Strategy",
    "allowance_by_benchmark",
    "apply_entries",
    "compliance_position",
    "offsets_total",
    "project_year_end",
    "strategy",
    "trading_costs",
]

DEFAULT_OFFSET_CAP = 0.05


class Instrument(StrEnum):
    ALLOWANCE = "allowance"
    CCER = "ccer"
    CERTIFIED_REDUCTION = "certified_reduction"


OFFSETS = (Instrument.CCER, Instrument.CERTIFIED_REDUCTION)


class EntryKind(StrEnum):
    ALLOCATE = "allocate"  # allowances allocated for a year
    ISSUE = "issue"  # certified reductions issued from a project
    BUY = "buy"
    SELL = "sell"
    SURRENDER = "surrender"  # 履约清缴
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"


_SIGN = {EntryKind.ALLOCATE: 1, EntryKind.ISSUE: 1, EntryKind.BUY: 1, EntryKind.TRANSFER_IN: 1,
         EntryKind.SELL: -1, EntryKind.SURRENDER: -1, EntryKind.TRANSFER_OUT: -1}


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    instrument: Instrument
    vintage: int
    quantity: float  # tCO2e, > 0; the kind gives the direction
    reference: str = ""  # entry id, for messages


Balance = dict[tuple[Instrument, int], float]


def allowance_by_benchmark(benchmark: float, output: float, adjustment: float = 1.0) -> float:
    """Allowances of a year = intensity benchmark (tCO2 per unit of output) x output x adjustment factor."""
    for name, value in (("benchmark", benchmark), ("output", output), ("adjustment", adjustment)):
        if value < 0:
            raise AssetError(f"{name} {value} is negative; an allowance needs benchmark, output and adjustment >= 0")
    return benchmark * output * adjustment


def apply_entries(entries: Iterable[Entry], opening: Mapping[tuple[Instrument, int], float] | None = None) -> Balance:
    """Balances after `entries` in order; AssetError naming the entry that would make a balance negative."""
    balance: Balance = dict(opening or {})
    for entry in entries:
        if entry.quantity <= 0:
            raise AssetError(f"entry {entry.reference or entry.kind.value}: quantity {entry.quantity} must be > 0 "
                             "(the kind, e.g. sell or surrender, gives the direction)")
        if entry.kind is EntryKind.ISSUE and entry.instrument is Instrument.ALLOWANCE:
            raise AssetError("allowances are allocated (kind 'allocate'), not issued from a project")
        if entry.kind is EntryKind.ALLOCATE and entry.instrument is not Instrument.ALLOWANCE:
            raise AssetError(f"only allowances are allocated; {entry.instrument.value} is issued or bought")
        key = (entry.instrument, entry.vintage)
        after = balance.get(key, 0.0) + _SIGN[entry.kind] * entry.quantity
        if after < -1e-9:
            raise AssetError(f"{entry.kind.value} of {entry.quantity} {entry.instrument.value} {entry.vintage} "
                             f"({entry.reference or 'new entry'}) exceeds the balance {balance.get(key, 0.0)}; "
                             "buy or receive it first")
        balance[key] = max(after, 0.0)
    return balance


@dataclass(frozen=True)
class CompliancePosition:
    verified_tco2: float
    allowances: float
    offsets_held: float
    offset_cap: float
    usable_offsets: float
    position: float  # > 0 surplus, < 0 deficit

    @property
    def status(self) -> str:
        return "surplus" if self.position > 0 else "deficit" if self.position < 0 else "balanced"


def compliance_position(*, verified_tco2: float, allowances: float, offsets_held: float,
                        offset_cap: float = DEFAULT_OFFSET_CAP) -> CompliancePosition:
    """Allowances plus usable offsets (capped at `offset_cap` of the emissions) against verified emissions."""
    if not 0 <= offset_cap <= 1:
        raise AssetError(f"offset_cap {offset_cap} must be a share within 0..1 (0.05 for 5 %)")
    for name, value in (("verified_tco2", verified_tco2), ("allowances", allowances), ("offsets_held", offsets_held)):
        if value < 0:
            raise AssetError(f"{name} {value} is negative")
    usable = min(offsets_held, offset_cap * verified_tco2)
    return CompliancePosition(verified_tco2=verified_tco2, allowances=allowances, offsets_held=offsets_held,
                              offset_cap=offset_cap, usable_offsets=usable,
                              position=allowances + usable - verified_tco2)


@dataclass(frozen=True)
class Projection:
    recorded_tco2: float
    recorded_months: tuple[int, ...]
    projected_tco2: float  # year-end
    gap: float  # projected position: allowances + usable offsets - projected emissions (< 0: deficit projected)
    deficit_projected: bool


def project_year_end(monthly_tco2: Mapping[int, float], *, allowances: float, offsets_held: float,
                     offset_cap: float = DEFAULT_OFFSET_CAP,
                     covered: Mapping[int, float] | None = None) -> Projection:
    """Year-end emissions from the recorded months (1..12) by run rate, and the projected compliance gap.

    `covered` gives the share of a month its figure covers (the current month's live figure, month to date:
    10 days of 31 is 10/31); a month not named covers all of it. The run rate is the recorded tCO2 per month
    covered, so {1: 100, 2: 100, 3: 50} with 3 covered half projects 250 + 100 x 9.5 = 1200."""
    if not monthly_tco2:
        raise AssetError("no monthly emissions recorded for the year; record at least one month to project")
    bad = sorted(m for m in monthly_tco2 if not 1 <= m <= 12)
    if bad:
        raise AssetError(f"months {bad} are not calendar months 1..12")
    shares = {m: (covered or {}).get(m, 1.0) for m in monthly_tco2}
    wrong = sorted(m for m, share in shares.items() if not 0 < share <= 1)
    if wrong:
        raise AssetError(f"months {wrong} cover a share outside (0, 1] of the month; a month's figure covers part or"
                         " all of it")
    recorded = sum(monthly_tco2.values())
    months_covered = sum(shares.values())
    projected = recorded + recorded / months_covered * (12 - months_covered)
    position = compliance_position(verified_tco2=projected, allowances=allowances, offsets_held=offsets_held,
                                   offset_cap=offset_cap)
    return Projection(recorded_tco2=recorded, recorded_months=tuple(sorted(monthly_tco2)), projected_tco2=projected,
                      gap=position.position, deficit_projected=position.position < 0)


@dataclass(frozen=True)
class ScenarioCost:
    scenario: str
    price: float  # per tCO2e
    cost: float  # > 0 paid for buying the deficit, < 0 earned by selling the surplus


def trading_costs(gap: float, scenarios: Mapping[str, float]) -> list[ScenarioCost]:
    """What closing `gap` costs (deficit) or earns (surplus) under each price scenario."""
    for name, price in scenarios.items():
        if price < 0:
            raise AssetError(f"price scenario {name!r}: price {price} is negative")
    return [ScenarioCost(scenario=name, price=price, cost=-gap * price) for name, price in scenarios.items()]


@dataclass(frozen=True)
class Strategy:
    action: str  # buy, sell or hold
    quantity: float
    timing: str
    reason: str


def strategy(gap: float, *, projected_tco2: float, current_price: float, scenarios: Mapping[str, float],
             months_to_deadline: int, buffer_share: float = 0.10) -> Strategy:
    """The documented rule of the module docstring: how much to buy or sell, and when."""
    if not scenarios:
        raise AssetError("give at least one price scenario")
    if months_to_deadline < 0:
        raise AssetError(f"months_to_deadline {months_to_deadline} is negative")
    mean = sum(scenarios.values()) / len(scenarios)
    if gap < 0:
        need = -gap
        if current_price <= mean:
            return Strategy("buy", need, "now", f"deficit {need:.6g} t; current price {current_price:.6g} is at or "
                            f"below the scenario mean {mean:.6g}")
        if months_to_deadline <= 1:
            return Strategy("buy", need, "now", f"deficit {need:.6g} t and the deadline is within a month")
        lots = need / months_to_deadline
        return Strategy("buy", need, f"{months_to_deadline} monthly lots of {lots:.6g}",
                        f"deficit {need:.6g} t; current price {current_price:.6g} is above the scenario mean "
                        f"{mean:.6g}: spread the purchase to the deadline")
    spare = gap - buffer_share * projected_tco2
    if spare > 0 and current_price >= mean:
        return Strategy("sell", spare, "now", f"surplus {gap:.6g} t beyond a {buffer_share:.0%} buffer; current "
                        f"price {current_price:.6g} is at or above the scenario mean {mean:.6g}")
    return Strategy("hold", 0.0, "review monthly",
                    f"position {gap:.6g} t is within the {buffer_share:.0%} buffer" if spare <= 0
                    else f"surplus {spare:.6g} t; current price {current_price:.6g} is below the scenario mean "
                         f"{mean:.6g}")


def offsets_total(balance: Mapping[tuple[Instrument, int], float], instruments: Sequence[Instrument] = OFFSETS) -> float:
    """The offsets held, every vintage."""
    return sum(q for (instrument, _), q in balance.items() if instrument in instruments)
