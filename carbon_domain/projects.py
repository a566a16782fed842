"""Reduction projects: kinds, the lifecycle and the reduction of one monitoring period (GB/T 33760-2017 structure).

ER = BE - PE - LE per monitoring period (METHODS.md section 6):

* BE, baseline emissions. Grid-connected PV or wind: net generation x EF_CM, with
  EF_CM = w_OM x EF_OM + w_BM x EF_BM, the margins of the project's regional grid from the factor library
  (keys ``grid.margin.om.<region>`` / ``grid.margin.bm.<region>``). Other kinds: the emissions of the baseline
  activities (the fuel or electricity the project displaces), by the accounting formulas.
* PE, project emissions: the project's metered fuel and electricity, by `emission_for_activity`.
* LE, leakage: entered, and only with a justification when it is not zero.

Each result carries its provenance (the inputs with their sources, the factor rows, the formula version), so a
certified figure can be traced and recomputed.

>>> from datetime import datetime, UTC
>>> period = PeriodInputs(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 2, 1, tzinfo=UTC),
...                       net_generation_mwh=100.0, generation_source="meter pv-1/export_kwh")
>>> round(period_reduction(ProjectKind.GRID_PV, "east", period).er_tco2, 4)
69.0825
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from carbon_domain.accounting import emission_for_activity
from carbon_domain.errors import FactorNotFound, ProjectError
from carbon_domain.factors import FactorLibrary, FactorRow
from carbon_domain.monitoring import METERED_ENERGY, FigureCalculator, normalise_quantity

__all__ = [
    "GRID_RENEWABLES",
    "MARGIN_SERIES",
    "MARGIN_WEIGHTS",
    "REDUCTION_FORMULA_VERSION",
    "Activity",
    "CombinedMargin",
    "MeteredUse",
    "PeriodInputs",
    "ProjectKind",
    "Reduction",
    "Stage",
    "TwoHighActual",
    "combined_margin",
    "next_stages",
    "period_reduction",
    "stages_of",
    "two_high_actual",
    "two_high_warnings",
]

REDUCTION_FORMULA_VERSION = "gbt33760-2017/er-v1"
MARGIN_SERIES = "mee-baseline-2019"


class ProjectKind(StrEnum):
    GRID_PV = "grid_pv"  # 并网光伏
    WIND = "wind"  # 风电
    ENERGY_EFFICIENCY = "energy_efficiency"  # 节能改造
    FUEL_SWITCH = "fuel_switch"  # 燃料替代
    CCER = "ccer"  # 国家核证自愿减排量项目
    CARBON_SINK = "carbon_sink"  # 碳汇
    TWO_HIGH = "two_high"  # 两高 (high energy use, high emission)


class Stage(StrEnum):
    INITIATED = "initiated"  # 立项
    IMPLEMENTING = "implementing"  # 实施
    ACCEPTED = "accepted"  # 验收
    FILED = "filed"  # 备案/认证


GRID_RENEWABLES = frozenset({ProjectKind.GRID_PV, ProjectKind.WIND})
# Kinds whose reductions are traded or credited end with filing (备案/认证); the others end at acceptance.
_FILED_KINDS = frozenset({ProjectKind.GRID_PV, ProjectKind.WIND, ProjectKind.CCER, ProjectKind.CARBON_SINK})

# (w_OM, w_BM): wind and solar 0.75 / 0.25 (METHODS.md section 6, [check]); any other grid-displacing project
# 0.5 / 0.5, the default weighting of the grid emission-factor tool for a first crediting period [check].
MARGIN_WEIGHTS: dict[ProjectKind, tuple[float, float]] = {
    kind: (0.75, 0.25) if kind in GRID_RENEWABLES else (0.5, 0.5) for kind in ProjectKind
}


def stages_of(kind: ProjectKind) -> tuple[Stage, ...]:
    """The lifecycle of a kind: 立项 -> 实施 -> 验收, then 备案/认证 where the kind needs it."""
    base = (Stage.INITIATED, Stage.IMPLEMENTING, Stage.ACCEPTED)
    return (*base, Stage.FILED) if kind in _FILED_KINDS else base


def next_stages(kind: ProjectKind, current: Stage) -> tuple[Stage, ...]:
    """The stage a project of `kind` may move to from `current` (one step forward; none at the end)."""
    stages = stages_of(kind)
    if current not in stages:
        raise ProjectError(f"stage {current.value!r} is not in the lifecycle of a {kind.value} project "
                           f"({' -> '.join(s.value for s in stages)})")
    at = stages.index(current)
    return stages[at + 1:at + 2]


@dataclass(frozen=True)
class CombinedMargin:
    value: float  # tCO2/MWh
    w_om: float
    w_bm: float
    om: FactorRow
    bm: FactorRow


def combined_margin(kind: ProjectKind, grid_region: str, at: datetime, library: FactorLibrary) -> CombinedMargin:
    """EF_CM of the regional grid at `at`, weighted for the project kind, with both margin rows."""
    chain = [("region", grid_region)]
    try:
        om = library.resolve(f"grid.margin.om.{grid_region}", at, series=MARGIN_SERIES, scope_chain=chain)
        bm = library.resolve(f"grid.margin.bm.{grid_region}", at, series=MARGIN_SERIES, scope_chain=chain)
    except FactorNotFound as exc:
        raise ProjectError(f"no OM/BM margin of grid region {grid_region!r}: {exc}") from exc
    w_om, w_bm = MARGIN_WEIGHTS[kind]
    return CombinedMargin(value=w_om * om.value + w_bm * bm.value, w_om=w_om, w_bm=w_bm, om=om, bm=bm)


@dataclass(frozen=True)
class Activity:
    """A quantity of fuel or electricity over the period, and where it was read (a point, a bill)."""

    activity: str  # an accounting activity: electricity, natural_gas, ...
    quantity: float
    unit: str
    source: str


@dataclass(frozen=True)
class PeriodInputs:
    """What one monitoring period's reduction is computed from."""

    start: datetime
    end: datetime
    net_generation_mwh: float | None = None  # grid renewables: export - import over the period
    generation_source: str = ""
    baseline_activities: Sequence[Activity] = ()  # other kinds: what the project displaces
    project_activities: Sequence[Activity] = ()  # metered fuel and electricity of the project
    leakage_tco2: float = 0.0
    leakage_justification: str = ""
    notes: Sequence[str] = field(default_factory=tuple)  # e.g. quality flags of the readings used


@dataclass(frozen=True)
class Reduction:
    be_tco2: float
    pe_tco2: float
    le_tco2: float
    er_tco2: float
    ef_cm: float | None
    inputs: tuple[str, ...]  # each input with its value and source
    factor_ids: tuple[str, ...]
    formula_version: str


def period_reduction(kind: ProjectKind, grid_region: str, period: PeriodInputs,
                     library: FactorLibrary | None = None) -> Reduction:
    """ER = BE - PE - LE of one monitoring period, with its provenance."""
    library = library or FactorLibrary.default()
    _check_period(kind, period)
    at = period.start  # factors of the period's first day: a period lies within one data year
    inputs: list[str] = []
    factor_ids: list[str] = []
    ef_cm: float | None = None
    if kind in GRID_RENEWABLES:
        assert period.net_generation_mwh is not None
        margin = combined_margin(kind, grid_region, at, library)
        ef_cm = margin.value
        be = period.net_generation_mwh * margin.value
        inputs.append(f"net_generation={period.net_generation_mwh} MWh ({period.generation_source})")
        inputs.append(f"EF_CM={margin.w_om}*EF_OM+{margin.w_bm}*EF_BM={margin.value:.6g} tCO2/MWh")
        factor_ids += [margin.om.factor_id, margin.bm.factor_id]
    else:
        be = _activities_tco2(period.baseline_activities, "baseline", at, library, inputs, factor_ids)
    pe = _activities_tco2(period.project_activities, "project", at, library, inputs, factor_ids)
    le = period.leakage_tco2
    if le:
        inputs.append(f"leakage={le} tCO2 ({period.leakage_justification.strip()})")
    inputs += list(period.notes)
    return Reduction(be_tco2=be, pe_tco2=pe, le_tco2=le, er_tco2=be - pe - le, ef_cm=ef_cm, inputs=tuple(inputs),
                     factor_ids=tuple(dict.fromkeys(factor_ids)), formula_version=REDUCTION_FORMULA_VERSION)


def _check_period(kind: ProjectKind, period: PeriodInputs) -> None:
    if period.start.tzinfo is None or period.end <= period.start:
        raise ProjectError(f"a monitoring period needs timezone-aware start < end, got {period.start.isoformat()}"
                           f" .. {period.end.isoformat()}")
    if kind in GRID_RENEWABLES:
        if period.net_generation_mwh is None:
            raise ProjectError(f"a {kind.value} project's baseline is its net generation: give net_generation_mwh")
        if period.net_generation_mwh < 0:
            raise ProjectError(f"net generation {period.net_generation_mwh} MWh is negative (the plant drew more "
                               "than it fed in): the period has no baseline; check the export/import meters")
    elif period.net_generation_mwh is not None:
        raise ProjectError(f"a {kind.value} project's baseline is its displaced activities, not net generation; "
                           "give baseline_activities")
    if period.leakage_tco2 < 0:
        raise ProjectError(f"leakage {period.leakage_tco2} tCO2 is negative; leakage adds emissions, enter >= 0")
    if period.leakage_tco2 and not period.leakage_justification.strip():
        raise ProjectError(f"leakage {period.leakage_tco2} tCO2 needs a justification (the source and the "
                           "estimate's method)")
    for a in (*period.baseline_activities, *period.project_activities):
        if a.quantity < 0:
            raise ProjectError(f"{a.activity} quantity {a.quantity} {a.unit} ({a.source}) is negative")


def _activities_tco2(activities: Sequence[Activity], role: str, at: datetime, library: FactorLibrary,
                     inputs: list[str], factor_ids: list[str]) -> float:
    total = 0.0
    for a in activities:
        emission = emission_for_activity(a.activity, a.quantity, a.unit, at, library)
        total += emission.tco2
        inputs.append(f"{role} {a.activity}={a.quantity} {a.unit} ({a.source}) -> {emission.tco2:.6g} tCO2 "
                      f"[{emission.formula}]")
        factor_ids += emission.factor_ids
    return total


def two_high_warnings(*, approved_tce: float | None, approved_tco2: float | None, actual_tce: float | None,
                      actual_tco2: float | None) -> tuple[str, ...]:
    """A 两高 project's warnings: each actual figure (energy in tce, CO2 in t) above its approved figure."""
    warnings = []
    for name, unit, approved, actual in (("energy", "tce", approved_tce, actual_tce),
                                         ("CO2", "tCO2", approved_tco2, actual_tco2)):
        for label, value in (("approved", approved), ("actual", actual)):
            if value is not None and value < 0:
                raise ProjectError(f"{label} {name} {value} {unit} is negative")
        if approved is not None and actual is not None and actual > approved:
            over = f" ({(actual - approved) / approved:.1%} over)" if approved else ""
            warnings.append(f"actual {name} {actual:.6g} {unit} exceeds the approved {approved:.6g} {unit}{over}")
    return tuple(warnings)


@dataclass(frozen=True)
class MeteredUse:
    """A month's increase of one bound point of a 两高 project: its role (the activity it meters; 'import' is
    electricity drawn from the grid) and where it was read."""

    month: date
    role: str
    quantity: float
    unit: str
    source: str


@dataclass(frozen=True)
class TwoHighActual:
    tce: float
    tco2: float
    inputs: tuple[str, ...]  # each month and point with its quantity, tce and tCO2
    factor_ids: tuple[str, ...]
    left_out: tuple[str, ...]  # roles that are no energy use (export, products, unknown activities)


def two_high_actual(uses: Sequence[MeteredUse], library: FactorLibrary) -> TwoHighActual:
    """A 两高 project's actual energy (tce, GB/T 2589 coefficients) and CO2 from its meters' monthly increases,
    converted as government monitoring converts metered figures (carbon_domain.monitoring.FigureCalculator):
    e.g. 1000 MWh of electricity is 1000 x 0.1229 = 122.9 tce (calorific equivalent)."""
    calculator = FigureCalculator(library)
    tce = tco2 = 0.0
    inputs: list[str] = []
    factor_ids: list[str] = []
    left_out: list[str] = []
    for use in uses:
        if use.quantity < 0:
            raise ProjectError(f"{use.role} increase {use.quantity} {use.unit} ({use.source}) is negative")
        kind = METERED_ENERGY.get("electricity" if use.role == "import" else use.role)
        if kind is None:
            left_out.append(f"{use.role} ({use.source}): not an energy use")
            continue
        quantity, unit = normalise_quantity(kind.value, use.quantity, use.unit)
        figure = calculator.energy(kind.value, quantity, use.month)
        tce += figure.tce
        tco2 += figure.tco2
        factor_ids += figure.factor_ids
        inputs.append(f"{use.month:%Y-%m} {use.role}={quantity:.6g} {unit} ({use.source}) -> {figure.tce:.6g} tce, "
                      f"{figure.tco2:.6g} tCO2 [{figure.formula}]")
    return TwoHighActual(tce=tce, tco2=tco2, inputs=tuple(inputs), factor_ids=tuple(dict.fromkeys(factor_ids)),
                         left_out=tuple(dict.fromkeys(left_out)))
