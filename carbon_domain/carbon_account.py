"""The enterprise carbon account (碳账户): what the 碳效码 of a unit is made of and what would change it.

Pure rules on top of `carbon_domain.efficiency_code`:

* `month_figures`: a unit's monthly monitoring figures (tCO2 per energy type, own PV/wind generation, value
  added) turned into the `MonthFigures` the code is computed from; own generation is valued at the electricity
  factor the inventory uses in that month.
* `drivers`: which energy types carry the unit's CO2 and which months are the most CO2-intensive.
* `next_grade`: how far the unit is from the next better grade, in tCO2 less or in value added more.
* `watch_list`: units whose grade worsened year on year, or whose intensity rose for N periods in a row.
* `grade_distribution`: counts of grades (and of units without a code) per group (region, industry).
* `grade_summary`: what colours a group on the grade map: its mean grade and the share of its coded units in the
  worst grades (4 and 5, K above 1.2 times the industry average under the built-in boundaries).

>>> step = next_grade(grade=3, net_co2_t=120.0, value_added_10k_yuan=100.0, industry_intensity=1.0,
...                   config=DEFAULT_CONFIG)
>>> step.target_grade, round(step.reduce_tco2, 6), round(step.add_value_added_10k_yuan, 6)
(2, 40.0, 50.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from carbon_domain.efficiency_code import DEFAULT_CONFIG, EfficiencyCodeConfig, MonthFigures
from carbon_domain.errors import EfficiencyCodeError

__all__ = [
    "MonthlyInputs",
    "ElectricityFactor",
    "month_figures",
    "EnergyShare",
    "MonthDriver",
    "Drivers",
    "drivers",
    "NextGrade",
    "next_grade",
    "PeriodMark",
    "Watch",
    "watch_list",
    "grade_distribution",
    "WORST_GRADES",
    "GRADE_SUMMARY_FORMULA",
    "GradeSummary",
    "grade_summary",
    "DEFAULT_CONFIG",
]


@dataclass(frozen=True)
class MonthlyInputs:
    """One unit's monitoring figures of one month ('YYYY-MM'): tCO2 by energy type, own generation, value added."""

    month: str
    energy_tco2: Mapping[str, float]
    own_generation_mwh: float = 0.0
    value_added_10k_yuan: float = 0.0
    factor_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ElectricityFactor:
    """The inventory's electricity factor of one month (tCO2/MWh) and the factor rows it comes from."""

    t_per_mwh: float
    factor_ids: tuple[str, ...]


def month_figures(months: Iterable[MonthlyInputs], factors: Mapping[str, ElectricityFactor]) -> list[MonthFigures]:
    """The `MonthFigures` of a unit's months; own generation counts as avoided at that month's electricity factor.

    A month with generation but no factor is an error (the avoided CO2 could not be valued)."""
    out = []
    for m in months:
        factor = factors.get(m.month)
        if factor is None:
            if m.own_generation_mwh > 0:
                raise EfficiencyCodeError(f"month {m.month}: no electricity factor to value "
                                          f"{m.own_generation_mwh:g} MWh of own generation; add the grid factor row")
            factor = ElectricityFactor(0.0, ())
        rows = tuple(dict.fromkeys((*m.factor_ids, *(factor.factor_ids if m.own_generation_mwh > 0 else ()))))
        out.append(MonthFigures(month=m.month, energy_co2_t=sum(m.energy_tco2.values()),
                                own_generation_mwh=m.own_generation_mwh,
                                electricity_factor_t_per_mwh=factor.t_per_mwh, sinks_t=0.0,
                                value_added_10k_yuan=m.value_added_10k_yuan, factor_row_ids=rows))
    return out


# --- drivers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnergyShare:
    energy_type: str
    tco2: float
    share: float  # of the unit's energy CO2 in the period


@dataclass(frozen=True)
class MonthDriver:
    month: str
    tco2: float
    value_added_10k_yuan: float
    intensity: float | None  # tCO2 per 10^4 yuan; None without value added
    above_period: bool  # more CO2-intensive than the period as a whole


@dataclass(frozen=True)
class Drivers:
    energy: tuple[EnergyShare, ...]  # largest first
    months: tuple[MonthDriver, ...]  # calendar order
    period_intensity: float | None


def drivers(months: Sequence[MonthlyInputs]) -> Drivers:
    """Which energy types carry the CO2 (largest share first) and which months run above the period's intensity."""
    by_type: dict[str, float] = {}
    for m in months:
        for energy, tco2 in m.energy_tco2.items():
            by_type[energy] = by_type.get(energy, 0.0) + tco2
    total = sum(by_type.values())
    energy = tuple(EnergyShare(name, tco2, tco2 / total if total > 0 else 0.0)
                   for name, tco2 in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])))
    value_added = sum(m.value_added_10k_yuan for m in months)
    period = total / value_added if value_added > 0 else None
    rows = []
    for m in sorted(months, key=lambda m: m.month):
        tco2 = sum(m.energy_tco2.values())
        level = tco2 / m.value_added_10k_yuan if m.value_added_10k_yuan > 0 else None
        rows.append(MonthDriver(m.month, tco2, m.value_added_10k_yuan, level,
                                level is not None and period is not None and level > period))
    return Drivers(energy=energy, months=tuple(rows), period_intensity=period)


# --- distance to the next grade ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NextGrade:
    """What reaches `target_grade`: either `reduce_tco2` less net CO2 or `add_value_added_10k_yuan` more value
    added (the industry average held as it is)."""

    target_grade: int
    boundary_efficiency: float  # K at most this gives the target grade
    target_intensity: float  # L at most this
    reduce_tco2: float
    add_value_added_10k_yuan: float


def next_grade(*, grade: int, net_co2_t: float, value_added_10k_yuan: float, industry_intensity: float,
               config: EfficiencyCodeConfig = DEFAULT_CONFIG) -> NextGrade | None:
    """The step to the next better grade (None at grade 1). K = L / L_ind is graded by the first boundary it does
    not exceed, so grade g-1 needs K ≤ boundary[g-2]: L ≤ boundary × L_ind."""
    if not 1 <= grade <= 5:
        raise EfficiencyCodeError(f"grade {grade} is not 1 to 5")
    if value_added_10k_yuan <= 0 or industry_intensity <= 0:
        raise EfficiencyCodeError("value added and the industry intensity must be positive to size a step")
    if grade == 1:
        return None
    boundary = config.grade_boundaries[grade - 2]
    target = boundary * industry_intensity
    reduce = max(0.0, net_co2_t - target * value_added_10k_yuan)
    add = max(0.0, net_co2_t / target - value_added_10k_yuan)
    return NextGrade(grade - 1, boundary, target, reduce, add)


# --- watch list -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodMark:
    """A unit's result in one period: its grade and intensity (None without a code)."""

    period: str  # sortable: '2024', '2025' or 'YYYY-MM..YYYY-MM'
    grade: int | None
    intensity: float | None


@dataclass(frozen=True)
class Watch:
    unit_id: str
    grade_worsened: tuple[int, int] | None  # (grade the year before, grade now)
    rising_periods: int  # consecutive rises of intensity ending with the latest period (0: none)
    reasons: tuple[str, ...]


def _rises(marks: Sequence[PeriodMark]) -> int:
    count = 0
    for before, after in zip(reversed(marks[:-1]), reversed(marks[1:]), strict=True):
        if before.intensity is None or after.intensity is None or after.intensity <= before.intensity:
            break
        count += 1
    return count


def watch_list(history: Mapping[str, Sequence[PeriodMark]], *, rising: int = 2) -> list[Watch]:
    """Units whose latest grade is worse than the period before, or whose intensity rose in each of the last
    `rising` periods; by unit id."""
    if rising < 1:
        raise EfficiencyCodeError(f"rising periods must be 1 or more, got {rising}")
    out = []
    for unit_id in sorted(history):
        marks = sorted(history[unit_id], key=lambda m: m.period)
        reasons = []
        worsened = None
        if len(marks) >= 2 and marks[-1].grade is not None and marks[-2].grade is not None \
                and marks[-1].grade > marks[-2].grade:
            worsened = (marks[-2].grade, marks[-1].grade)
            reasons.append(f"grade {worsened[0]} in {marks[-2].period} -> {worsened[1]} in {marks[-1].period}")
        rises = _rises(marks)
        if rises >= rising:
            reasons.append(f"intensity rose {rises} period(s) in a row up to {marks[-1].period}")
        if reasons:
            out.append(Watch(unit_id, worsened, rises, tuple(reasons)))
    return out


def grade_distribution(rows: Iterable[tuple[str, int | None]]) -> dict[str, dict[str, int]]:
    """Per group key: units per grade ('1' to '5') and without a code ('none'), and their total."""
    out: dict[str, dict[str, int]] = {}
    for key, grade in rows:
        counts = out.setdefault(key, {**{str(g): 0 for g in range(1, 6)}, "none": 0, "total": 0})
        counts["none" if grade is None else str(grade)] += 1
        counts["total"] += 1
    return dict(sorted(out.items()))


WORST_GRADES: tuple[int, ...] = (4, 5)
"""The grades counted as 'worst' on the grade map: K above the third boundary (1.2 in the built-in version)."""

GRADE_SUMMARY_FORMULA = ("mean grade = Σ(grade × units of that grade) / coded units; "
                         "worst share = units of grades 4 and 5 / coded units; units without a code count in neither")


@dataclass(frozen=True)
class GradeSummary:
    """One group's coded units, mean grade and share of the worst grades (None without a coded unit)."""

    coded: int
    mean_grade: float | None
    worst_share: float | None


def grade_summary(counts: Mapping[str, int], *, worst: Sequence[int] = WORST_GRADES) -> GradeSummary:
    """The summary of one group's counts as `grade_distribution` gives them ('1' to '5', 'none', 'total').

    >>> grade_summary({"1": 2, "2": 0, "3": 1, "4": 0, "5": 1, "none": 3, "total": 7})
    GradeSummary(coded=4, mean_grade=2.5, worst_share=0.25)
    """
    by_grade = {g: int(counts.get(str(g), 0)) for g in range(1, 6)}
    if any(n < 0 for n in by_grade.values()):
        raise EfficiencyCodeError(f"grade counts cannot be negative, got {by_grade}")
    coded = sum(by_grade.values())
    if coded == 0:
        return GradeSummary(0, None, None)
    return GradeSummary(coded, sum(g * n for g, n in by_grade.items()) / coded,
                        sum(by_grade[g] for g in worst) / coded)
