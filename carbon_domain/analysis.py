"""Analysis and planning formulas (docs/analysis.md; METHODS.md section 7): Tapio decoupling, additive LMDI
decomposition, the Kaya identity, STIRPAT fits, scenario projections with their peak, influencing factors and
rule-based suggestions, and target allocation and tracking.

Pure functions over plain numbers: the API (api/analysis/) reads the monitoring figures and passes them in.
Units are the monitoring service's: CO2 in t, energy in tce, GDP / value added in 10^4 yuan, population in
10^4 persons. Bad input raises `FormulaInputError` naming the input and what to do.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy import stats

from carbon_domain.errors import FormulaInputError

__all__ = [
    "ALLOCATION_RULES",
    "COUPLING_HIGH",
    "COUPLING_LOW",
    "DRIVERS",
    "PRESETS",
    "SUGGESTION_RULES",
    "Allocation",
    "Decomposition",
    "Decoupling",
    "Factor",
    "GrowthPath",
    "Holder",
    "Kaya",
    "Projection",
    "ProjectedYear",
    "Scenario",
    "Sector",
    "SectorEffects",
    "StirpatFit",
    "StirpatPoint",
    "Suggestion",
    "TapioState",
    "TrackPoint",
    "allocate_intensity",
    "allocate_total",
    "decoupling_table",
    "fit_stirpat",
    "group_sectors",
    "kaya",
    "kaya_factors",
    "lmdi",
    "log_mean",
    "preset",
    "project",
    "suggest",
    "tapio",
    "track_intensity",
    "track_total",
]

# --- Tapio decoupling -------------------------------------------------------------------------------------------

COUPLING_LOW = 0.8
COUPLING_HIGH = 1.2


class TapioState(StrEnum):
    """Tapio (2005)'s eight states; the value is the English name used in the API."""

    EXPANSIVE_NEGATIVE_DECOUPLING = "expansive_negative_decoupling"
    EXPANSIVE_COUPLING = "expansive_coupling"
    WEAK_DECOUPLING = "weak_decoupling"
    STRONG_DECOUPLING = "strong_decoupling"
    STRONG_NEGATIVE_DECOUPLING = "strong_negative_decoupling"
    WEAK_NEGATIVE_DECOUPLING = "weak_negative_decoupling"
    RECESSIVE_COUPLING = "recessive_coupling"
    RECESSIVE_DECOUPLING = "recessive_decoupling"


@dataclass(frozen=True)
class Decoupling:
    """One comparison: growth rates of CO2 and GDP, the elasticity and its state (None when GDP is flat)."""

    start: int | str
    end: int | str
    carbon_growth: float
    gdp_growth: float
    elasticity: float | None
    state: TapioState | None


def tapio(c0: float, c1: float, gdp0: float, gdp1: float, *, start: int | str = 0,
          end: int | str = 1) -> Decoupling:
    """e = (ΔC/C0) / (ΔGDP/GDP0) and its Tapio state.

    The cut-offs 0.8 and 1.2 belong to coupling (0.8 <= e <= 1.2), compared at 9 decimal places. Growth of exactly 0 in CO2 gives e = 0, a
    (weak) decoupling when GDP grows and a weak negative decoupling when it shrinks. Flat GDP leaves e undefined:
    elasticity and state are None.
    """
    for name, value in (("base CO2", c0), ("base GDP", gdp0)):
        if not value > 0:
            raise FormulaInputError(f"{name} must be positive for a growth rate, got {value}; pick another base year")
    for name, value in (("CO2", c1), ("GDP", gdp1)):
        if value < 0 or not math.isfinite(value):
            raise FormulaInputError(f"{name} must be a non-negative number, got {value}")
    dc, dg = (c1 - c0) / c0, (gdp1 - gdp0) / gdp0
    if dg == 0:
        return Decoupling(start, end, dc, dg, None, None)
    e = dc / dg
    return Decoupling(start, end, dc, dg, e, _state(dc, dg, e))


def _state(dc: float, dg: float, exact: float) -> TapioState:
    e = round(exact, 9)  # so that a ratio of 0.8 on paper is not read as 0.7999999999 and called weak
    if dg > 0:
        if dc < 0:
            return TapioState.STRONG_DECOUPLING
        if e < COUPLING_LOW:
            return TapioState.WEAK_DECOUPLING
        return TapioState.EXPANSIVE_COUPLING if e <= COUPLING_HIGH else TapioState.EXPANSIVE_NEGATIVE_DECOUPLING
    if dc > 0:
        return TapioState.STRONG_NEGATIVE_DECOUPLING
    if e < COUPLING_LOW:
        return TapioState.WEAK_NEGATIVE_DECOUPLING
    return TapioState.RECESSIVE_COUPLING if e <= COUPLING_HIGH else TapioState.RECESSIVE_DECOUPLING


def decoupling_table(series: Sequence[tuple[int, float, float]]) -> tuple[list[Decoupling], Decoupling]:
    """Year-by-year comparisons of (year, CO2, GDP) rows sorted by year, and the first year against the last."""
    rows = sorted(series)
    if len(rows) < 2:
        raise FormulaInputError(f"decoupling needs two years with CO2 and GDP, got {len(rows)}; widen the years")
    steps = [tapio(a[1], b[1], a[2], b[2], start=a[0], end=b[0]) for a, b in itertools.pairwise(rows)]
    first, last = rows[0], rows[-1]
    return steps, tapio(first[1], last[1], first[2], last[2], start=first[0], end=last[0])


# --- LMDI -------------------------------------------------------------------------------------------------------


def log_mean(a: float, b: float) -> float:
    """L(a, b) = (a - b) / (ln a - ln b), with L(a, a) = a and L(a, 0) = 0 (its limits)."""
    if a <= 0 or b <= 0:
        return 0.0
    if a == b:
        return a
    return (a - b) / (math.log(a) - math.log(b))


@dataclass(frozen=True)
class Sector:
    """A sector (industry, unit or process) in one period: its activity (value added, or a process's output),
    energy (tce) and CO2 (t)."""

    key: str
    activity: float
    energy: float
    co2: float


@dataclass(frozen=True)
class SectorEffects:
    key: str
    base_co2: float
    target_co2: float
    activity: float
    structure: float
    intensity: float
    emission_factor: float


EFFECTS = ("activity", "structure", "intensity", "emission_factor")


@dataclass(frozen=True)
class Decomposition:
    """Additive LMDI: the four effects (t CO2) sum to `change` = target − base; `sectors` holds each sector's."""

    base_co2: float
    target_co2: float
    base_activity: float
    target_activity: float
    activity: float
    structure: float
    intensity: float
    emission_factor: float
    sectors: tuple[SectorEffects, ...]

    @property
    def change(self) -> float:
        return self.target_co2 - self.base_co2

    def effects(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in EFFECTS}


def group_sectors(sectors: Iterable[Sector], key: Mapping[str, str]) -> list[Sector]:
    """Sums sectors (e.g. units) into groups (e.g. their industries); `key` maps a sector key to its group."""
    sums: dict[str, list[float]] = {}
    for s in sectors:
        total = sums.setdefault(key[s.key], [0.0, 0.0, 0.0])
        total[0] += s.activity
        total[1] += s.energy
        total[2] += s.co2
    return [Sector(k, a, e, c) for k, (a, e, c) in sums.items()]


def _checked(sectors: Sequence[Sector], period: str) -> dict[str, Sector]:
    by_key: dict[str, Sector] = {}
    for s in sectors:
        if s.key in by_key:
            raise FormulaInputError(f"sector {s.key!r} appears twice in the {period} period; sum it first")
        if min(s.activity, s.energy, s.co2) < 0 or not all(map(math.isfinite, (s.activity, s.energy, s.co2))):
            raise FormulaInputError(f"sector {s.key!r} in the {period} period has a negative or missing value")
        if s.co2 > 0 and (s.activity == 0 or s.energy == 0):
            missing = "activity (value added)" if s.activity == 0 else "energy"
            raise FormulaInputError(f"sector {s.key!r} in the {period} period has CO2 but no {missing}: its "
                                    "intensity is undefined; report it or group the sector with another")
        by_key[s.key] = s
    return by_key


def lmdi(base: Sequence[Sector], target: Sequence[Sector], *,
         total_activity: tuple[float, float] | None = None) -> Decomposition:
    """Additive LMDI-I (Ang 2004) of C = Σ_i Q·S_i·I_i·F_i between two periods.

    Q is the total activity (Σ activity, or `total_activity` = (base, target), e.g. an enterprise's product
    output when the sectors are its processes: S_i is then a process ratio such as hot metal per crude steel),
    S_i = activity_i / Q, I_i = energy_i / activity_i, F_i = CO2_i / energy_i. The effect of factor X is
    Σ_i L(C_i^T, C_i^0)·ln(X_i^T / X_i^0), and the four effects sum exactly to ΔC.

    Zero values: a sector with CO2 in one period only (it enters or leaves) takes its whole change into the
    effect of the first of structure, intensity, emission factor that is zero in the period without CO2. That
    is the limit of Ang & Liu (2007)'s small-value substitution as the value goes to zero.
    """
    b, t = _checked(base, "base"), _checked(target, "target")
    q0, q1 = total_activity or (sum(s.activity for s in b.values()), sum(s.activity for s in t.values()))
    if not (q0 > 0 and q1 > 0):
        raise FormulaInputError(f"total activity must be positive in both periods, got {q0} and {q1}")
    lq = math.log(q1 / q0)
    rows: list[SectorEffects] = []
    zero = Sector("", 0.0, 0.0, 0.0)
    for key in sorted(b.keys() | t.keys()):
        s0, s1 = b.get(key, zero), t.get(key, zero)
        c0, c1 = s0.co2, s1.co2
        if c0 > 0 and c1 > 0:
            w = log_mean(c1, c0)
            effects = (w * lq, w * math.log(s1.activity / s0.activity / (q1 / q0)),
                       w * math.log((s1.energy / s1.activity) / (s0.energy / s0.activity)),
                       w * math.log((s1.co2 / s1.energy) / (s0.co2 / s0.energy)))
        elif c0 == c1:
            effects = (0.0, 0.0, 0.0, 0.0)
        else:
            empty = s0 if c0 == 0 else s1
            slot = 1 if empty.activity == 0 else 2 if empty.energy == 0 else 3
            effects = tuple(c1 - c0 if i == slot else 0.0 for i in range(4))  # type: ignore[assignment]
        rows.append(SectorEffects(key, c0, c1, *effects))
    activity, structure, intensity, factor = (math.fsum(float(getattr(r, name)) for r in rows) for name in EFFECTS)
    return Decomposition(math.fsum(s.co2 for s in b.values()), math.fsum(s.co2 for s in t.values()), q0, q1,
                         activity, structure, intensity, factor, tuple(rows))


# --- Kaya -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kaya:
    """CO2 = population × GDP per capita × energy per GDP × CO2 per energy."""

    population: float
    gdp_per_capita: float
    energy_per_gdp: float
    co2_per_energy: float

    @property
    def co2(self) -> float:
        return self.population * self.gdp_per_capita * self.energy_per_gdp * self.co2_per_energy


def kaya(*, population: float, gdp: float, energy: float, co2: float) -> Kaya:
    """The Kaya factors of a region-year (population 10^4 persons, GDP 10^4 yuan, energy tce, CO2 t)."""
    for name, value in (("population", population), ("GDP", gdp), ("energy", energy)):
        if not value > 0:
            raise FormulaInputError(f"{name} must be positive for the Kaya identity, got {value}")
    return Kaya(population, gdp / population, energy / gdp, co2 / energy)


# --- STIRPAT ----------------------------------------------------------------------------------------------------

STIRPAT_DRIVERS = ("population", "affluence", "technology")


@dataclass(frozen=True)
class StirpatPoint:
    """One year of history: CO2 (t), population, GDP and energy (tce)."""

    year: int
    co2: float
    population: float
    gdp: float
    energy: float

    def regressors(self) -> tuple[float, float, float]:
        """ln P, ln A (GDP per capita), ln T (energy per GDP)."""
        return (math.log(self.population), math.log(self.gdp / self.population), math.log(self.energy / self.gdp))


@dataclass(frozen=True)
class StirpatFit:
    """ln I = a + b ln P + c ln A + d ln T + e by ordinary least squares.

    A driver constant over the history (e.g. population when none was given) cannot be told from the
    intercept: it is left out and its elasticity is None.
    """

    drivers: tuple[str, ...]
    coefficients: tuple[float, ...]  # intercept first, then one per driver
    standard_errors: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    sigma: float
    n: int
    r2: float
    t_critical: float
    confidence: float
    years: tuple[int, ...]

    @property
    def dof(self) -> int:
        return self.n - len(self.coefficients)

    def elasticity(self, driver: str) -> tuple[float, float] | None:
        """(coefficient, standard error) of a driver, None when it was left out."""
        if driver not in self.drivers:
            return None
        i = self.drivers.index(driver) + 1
        return self.coefficients[i], self.standard_errors[i]

    def predict(self, point: StirpatPoint) -> tuple[float, float]:
        """ln I and the standard error of a new observation's ln I (parameter and residual uncertainty)."""
        values = dict(zip(STIRPAT_DRIVERS, point.regressors(), strict=True))
        x = np.array([1.0, *(values[d] for d in self.drivers)])
        mean = float(x @ np.array(self.coefficients))
        variance = float(x @ np.array(self.covariance) @ x) + self.sigma ** 2
        return mean, math.sqrt(max(variance, 0.0))


def fit_stirpat(points: Sequence[StirpatPoint], *, confidence: float = 0.95) -> StirpatFit:
    """Fits STIRPAT on history; needs at least one more year than coefficients."""
    for p in points:
        if min(p.co2, p.population, p.gdp, p.energy) <= 0:
            raise FormulaInputError(f"year {p.year} has a CO2, population, GDP or energy value that is not "
                                    "positive; STIRPAT takes logarithms, drop or correct the year")
    if not 0 < confidence < 1:
        raise FormulaInputError(f"confidence must lie between 0 and 1, got {confidence}")
    raw = np.array([p.regressors() for p in points]).reshape(len(points), 3)
    kept = [i for i in range(3) if len(points) and float(np.ptp(raw[:, i])) > 1e-12]
    design = np.column_stack([np.ones(len(points)), raw[:, kept]])
    k = design.shape[1]
    if len(points) <= k:
        raise FormulaInputError(f"the STIRPAT fit has {k} coefficients and needs at least {k + 1} years of "
                                f"history, got {len(points)}; add earlier years")
    if np.linalg.matrix_rank(design) < k:
        raise FormulaInputError("the drivers move together over the history (collinear), so their elasticities "
                                "cannot be told apart; add years or give population")
    y = np.log(np.array([p.co2 for p in points]))
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ beta
    dof = len(points) - k
    sigma2 = float(residuals @ residuals) / dof
    covariance = sigma2 * np.linalg.inv(design.T @ design)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(residuals @ residuals) / total if total > 0 else 1.0
    return StirpatFit(
        drivers=tuple(STIRPAT_DRIVERS[i] for i in kept),
        coefficients=tuple(float(v) for v in beta),
        standard_errors=tuple(math.sqrt(max(float(v), 0.0)) for v in np.diag(covariance)),
        covariance=tuple(tuple(float(v) for v in row) for row in covariance),
        sigma=math.sqrt(sigma2), n=len(points), r2=r2,
        t_critical=float(stats.t.ppf(0.5 + confidence / 2, dof)), confidence=confidence,
        years=tuple(p.year for p in points))


# --- scenarios and projection -----------------------------------------------------------------------------------

# 'carbon_per_energy' is the energy structure: CO2 per tce falls as coal gives way to gas and electricity
DRIVERS = ("population", "gdp", "energy_intensity", "carbon_per_energy")

# Default annual growth rates of the three scenarios. They are starting points the user edits, not forecasts:
# baseline continues recent national trends (GDP ~5 %, energy intensity -2.5 %/yr), policy adds the 14th
# Five-Year Plan's intensity cut pace, enhanced adds a faster shift away from coal.
PRESETS: dict[str, dict[str, float]] = {
    "baseline": {"population": 0.002, "gdp": 0.05, "energy_intensity": -0.025, "carbon_per_energy": -0.005},
    "policy": {"population": 0.002, "gdp": 0.05, "energy_intensity": -0.035, "carbon_per_energy": -0.015},
    "enhanced": {"population": 0.002, "gdp": 0.05, "energy_intensity": -0.045, "carbon_per_energy": -0.03},
}


@dataclass(frozen=True)
class GrowthPath:
    """Annual growth rates by step: ((from_year, rate), ...); a rate holds from its year until the next step.
    The value of year t is the value of t-1 times (1 + rate(t))."""

    steps: tuple[tuple[int, float], ...]

    def __post_init__(self) -> None:
        years = [y for y, _ in self.steps]
        if not self.steps or years != sorted(set(years)):
            raise FormulaInputError(f"a growth path needs steps in increasing years, got {list(self.steps)}")
        for year, rate in self.steps:
            if not -1 < rate < 10:
                raise FormulaInputError(f"growth rate {rate} from {year} is outside (-1, 10); give a fraction "
                                        "such as -0.03 for -3 %/yr")

    def rate(self, year: int) -> float:
        current = self.steps[0][1]
        for start, rate in self.steps:
            if start <= year:
                current = rate
        return current


@dataclass(frozen=True)
class Scenario:
    name: str
    paths: Mapping[str, GrowthPath]

    def __post_init__(self) -> None:
        missing = [d for d in DRIVERS if d not in self.paths]
        unknown = [d for d in self.paths if d not in DRIVERS]
        if missing or unknown:
            raise FormulaInputError(f"scenario {self.name!r} needs growth paths of exactly {list(DRIVERS)}; "
                                    f"missing {missing}, unknown {unknown}")


def preset(kind: str, *, start_year: int) -> Scenario:
    """One of the three default scenarios with constant rates from `start_year`."""
    if kind not in PRESETS:
        raise FormulaInputError(f"unknown scenario kind {kind!r}; use one of {sorted(PRESETS)}")
    return Scenario(kind, {d: GrowthPath(((start_year, r),)) for d, r in PRESETS[kind].items()})


@dataclass(frozen=True)
class ProjectedYear:
    year: int
    population: float
    gdp: float
    energy: float
    co2: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Factor:
    """An influencing factor: its contribution (t CO2, Kaya LMDI from the base year to the peak year) and,
    with a STIRPAT fit, its elasticity and standard error."""

    name: str
    contribution: float
    elasticity: float | None = None
    elasticity_se: float | None = None


@dataclass(frozen=True)
class Projection:
    model: str
    scenario: str
    years: tuple[ProjectedYear, ...]
    peak_year: int
    peak_co2: float
    peaked: bool  # False when the path still rises in its last year: no peak within the horizon
    peak_low: float | None
    peak_high: float | None
    peak_years: tuple[int, int] | None  # years that may be the peak given the interval
    factors: tuple[Factor, ...] = field(default=())


def _drivers(base: StirpatPoint, scenario: Scenario, end_year: int) -> list[tuple[int, float, float, float, float]]:
    """(year, population, gdp, energy intensity, carbon per energy) from the base year to `end_year`."""
    p, g, ei, cf = base.population, base.gdp, base.energy / base.gdp, base.co2 / base.energy
    rows = [(base.year, p, g, ei, cf)]
    for year in range(base.year + 1, end_year + 1):
        rate = {d: 1 + scenario.paths[d].rate(year) for d in DRIVERS}
        p, g = p * rate["population"], g * rate["gdp"]
        ei, cf = ei * rate["energy_intensity"], cf * rate["carbon_per_energy"]
        rows.append((year, p, g, ei, cf))
    return rows


_LOG_MAX = 700.0  # exp() of more overflows a float


def project(base: StirpatPoint, scenario: Scenario, *, end_year: int, fit: StirpatFit | None = None) -> Projection:
    """Emissions year by year from `base` under `scenario`, with the peak and ranked influencing factors.

    Without a fit the path is Kaya's: CO2 = GDP × energy intensity × CO2 per energy, and has no interval. With
    a STIRPAT fit the path is the fit's prediction exp(ln I) for each year's P, A, T, scaled by the energy
    structure's change (CO2 per energy relative to the base year, which STIRPAT's T does not carry), with the
    fit's prediction interval exp(ln I ± t·se).
    """
    if base.co2 <= 0 or base.energy <= 0 or base.gdp <= 0 or base.population <= 0:
        raise FormulaInputError(f"the base year {base.year} needs positive CO2, energy, GDP and population")
    if not base.year < end_year <= base.year + 100:
        raise FormulaInputError(f"end year {end_year} must lie within 100 years after the base year {base.year}")
    years: list[ProjectedYear] = []
    for year, population, gdp, ei, cf in _drivers(base, scenario, end_year):
        energy = gdp * ei
        if fit is None:
            years.append(ProjectedYear(year, population, gdp, energy, energy * cf, None, None))
            continue
        mean, se = fit.predict(StirpatPoint(year, 1.0, population, gdp, energy))
        scale = cf / (base.co2 / base.energy)
        half = fit.t_critical * se
        if not mean + half < _LOG_MAX:
            raise FormulaInputError(f"the STIRPAT fit projects an unbounded value for {year}; check the history "
                                    "it was fitted on")
        years.append(ProjectedYear(year, population, gdp, energy, math.exp(mean) * scale,
                                   math.exp(mean - half) * scale, math.exp(mean + half) * scale))
    if not all(math.isfinite(v) for y in years for v in (y.population, y.gdp, y.energy, y.co2)):
        raise FormulaInputError(f"the projection overflows before {end_year}; check the growth rates and end year")
    peak = max(years, key=lambda y: y.co2)
    peak_years = None
    if peak.low is not None:
        possible = [y.year for y in years if y.high is not None and y.high >= peak.low]
        peak_years = (min(possible), max(possible))
    return Projection("stirpat" if fit else "kaya", scenario.name, tuple(years), peak.year, peak.co2,
                      peak.year < years[-1].year, peak.low, peak.high, peak_years,
                      kaya_factors(years[0], peak if peak.year > years[0].year else years[-1], fit))


def kaya_factors(start: ProjectedYear, end: ProjectedYear, fit: StirpatFit | None = None) -> tuple[Factor, ...]:
    """Kaya LMDI of the path from `start` to `end`, ranked by the size of each contribution."""
    w = log_mean(end.co2, start.co2)

    def ratio(a: float, b: float) -> float:
        return math.log(a / b) if a > 0 and b > 0 else 0.0

    parts = {
        "population": (ratio(end.population, start.population), "population"),
        "gdp_per_capita": (ratio(end.gdp / end.population, start.gdp / start.population), "affluence"),
        "energy_intensity": (ratio(end.energy / end.gdp, start.energy / start.gdp), "technology"),
        "carbon_per_energy": (ratio(end.co2 / end.energy, start.co2 / start.energy), None),
    }
    factors = []
    for name, (log_ratio, driver) in parts.items():
        fitted = fit.elasticity(driver) if fit is not None and driver is not None else None
        factors.append(Factor(name, w * log_ratio, *(fitted if fitted else (None, None))))
    return tuple(sorted(factors, key=lambda f: -abs(f.contribution)))


# --- suggestions ------------------------------------------------------------------------------------------------

# Each rule: (id, condition in words, template). `suggest` applies them in this order; docs/analysis.md lists them.
SUGGESTION_RULES: tuple[tuple[str, str, str], ...] = (
    ("no_peak", "the path still rises in its last year",
     ("Emissions still rise in {end_year} (+{growth:.1%} that year): cut CO2 per unit of GDP by a further "
      "{needed:.1%} a year to reach a peak.")),
    ("peak", "the path peaks before its last year",
     "Emissions peak in {peak_year} at {peak_co2:,.0f} t CO2 under this scenario."),
    ("growth_driven", "the largest upward factor of the projection is population or GDP per capita",
     "{factor} adds {contribution:,.0f} t CO2 by {year}; the intensity factors offset {offset:.0%} of it."),
    ("structure", "the LMDI structure effect is positive",
     "Industry structure shifted towards carbon-intensive industries (+{effect:,.0f} t CO2); largest: {top}."),
    ("intensity", "the LMDI intensity effect is positive",
     "Energy intensity rose (+{effect:,.0f} t CO2); target efficiency in {top}."),
    ("emission_factor", "the LMDI emission-factor effect is positive",
     "The energy mix became more carbon-intensive (+{effect:,.0f} t CO2); switch fuels in {top}."),
)
_TEMPLATES = {rule: template for rule, _, template in SUGGESTION_RULES}


@dataclass(frozen=True)
class Suggestion:
    rule: str
    params: dict[str, object]

    @property
    def text(self) -> str:
        return _TEMPLATES[self.rule].format(**self.params)


def suggest(projection: Projection, decomposition: Decomposition | None = None, *, top: int = 3) -> list[Suggestion]:
    """The suggestions whose rules (SUGGESTION_RULES) hold for a projection and an optional decomposition."""
    out: list[Suggestion] = []
    path = projection.years
    if not projection.peaked and len(path) >= 2:
        growth = path[-1].co2 / path[-2].co2 - 1
        out.append(Suggestion("no_peak", {"end_year": path[-1].year, "growth": growth,
                                          "needed": growth / (1 + growth) if growth > 0 else 0.0}))
    elif projection.peaked:
        out.append(Suggestion("peak", {"peak_year": projection.peak_year, "peak_co2": projection.peak_co2}))
    upward = max(projection.factors, key=lambda f: f.contribution, default=None)
    if upward is not None and upward.contribution > 0 and upward.name in ("population", "gdp_per_capita"):
        relief = -sum(f.contribution for f in projection.factors
                      if f.name in ("energy_intensity", "carbon_per_energy") and f.contribution < 0)
        growth_total = sum(f.contribution for f in projection.factors
                           if f.name in ("population", "gdp_per_capita") and f.contribution > 0)
        end = projection.peak_year if projection.peaked else path[-1].year
        out.append(Suggestion("growth_driven", {"factor": upward.name, "contribution": upward.contribution,
                                                "year": end, "offset": relief / growth_total}))
    if decomposition is not None:
        for effect in ("structure", "intensity", "emission_factor"):
            value = getattr(decomposition, effect)
            if value > 0:
                ranked = sorted(decomposition.sectors, key=lambda s: -float(getattr(s, effect)))
                names = ", ".join(s.key for s in ranked[:top] if getattr(s, effect) > 0)
                out.append(Suggestion(effect, {"effect": value, "top": names}))
    return out


# --- targets ----------------------------------------------------------------------------------------------------

ALLOCATION_RULES = ("equal_rate", "by_share", "by_benchmark")


@dataclass(frozen=True)
class Holder:
    """A target holder (sub-region, industry or unit): base-period CO2 (t) and activity (value added), an
    agreed share for `by_share`, a benchmark intensity (t CO2 per unit of activity) for `by_benchmark`."""

    key: str
    base_co2: float
    activity: float = 0.0
    share: float | None = None
    benchmark: float | None = None


@dataclass(frozen=True)
class Allocation:
    key: str
    base: float
    target: float

    @property
    def reduction_rate(self) -> float | None:
        return 1 - self.target / self.base if self.base > 0 else None


def allocate_total(total: float, holders: Sequence[Holder], rule: str) -> list[Allocation]:
    """Splits a total target (t CO2 for the period) among holders; the parts sum to `total`.

    equal_rate: each holder keeps its base × total / Σ base (the same rate of change for all);
    by_share: total × share / Σ share;
    by_benchmark: activity × benchmark scaled by total / Σ(activity × benchmark), so efficient holders keep
    more room per unit of activity.
    """
    if rule not in ALLOCATION_RULES:
        raise FormulaInputError(f"unknown allocation rule {rule!r}; use one of {list(ALLOCATION_RULES)}")
    if not holders:
        raise FormulaInputError("a target needs at least one holder")
    if total < 0:
        raise FormulaInputError(f"a total target cannot be negative, got {total}")
    if rule == "equal_rate":
        weights = [h.base_co2 for h in holders]
    elif rule == "by_share":
        weights = [_need(h, "share", h.share) for h in holders]
    else:
        weights = [h.activity * _need(h, "benchmark", h.benchmark) for h in holders]
    if not math.isfinite(total):
        raise FormulaInputError(f"a total target must be a finite number, got {total}")
    if any(not 0 <= w < math.inf for w in weights) or not sum(weights) > 0:
        raise FormulaInputError(f"the {rule} weights of the holders must be non-negative with a positive sum")
    scale = total / math.fsum(weights)
    return [Allocation(h.key, h.base_co2, w * scale) for h, w in zip(holders, weights, strict=True)]


def _need(holder: Holder, name: str, value: float | None) -> float:
    if value is None:
        raise FormulaInputError(f"holder {holder.key!r} has no {name}; the rule needs one for every holder")
    return value


def allocate_intensity(rate: float, holders: Sequence[Holder]) -> list[Allocation]:
    """An intensity target (a fall of `rate` in t CO2 per 10^4 yuan) passed on at the same rate to every holder;
    base and target are intensities."""
    if not 0 <= rate < 1:
        raise FormulaInputError(f"an intensity reduction rate lies in [0, 1), got {rate}")
    out = []
    for h in holders:
        if not h.activity > 0:
            raise FormulaInputError(f"holder {h.key!r} has no value added, so it has no intensity to reduce")
        base = h.base_co2 / h.activity
        out.append(Allocation(h.key, base, base * (1 - rate)))
    return out


@dataclass(frozen=True)
class TrackPoint:
    """A month of tracking: cumulative actual against the pro-rated allowance up to that month."""

    month: str
    actual: float
    allowed: float
    off_track: bool


def track_total(target: float, months: Sequence[str], actual: Mapping[str, float], *,
                tolerance: float = 0.0) -> list[TrackPoint]:
    """Cumulative CO2 against target × (months elapsed / months in the period), for the months with figures so
    far; off track when the cumulative actual exceeds the allowance by more than `tolerance` (a fraction)."""
    if not months:
        raise FormulaInputError("a tracking period needs at least one month")
    out, total = [], 0.0
    for i, month in enumerate(months, start=1):
        if month not in actual:
            break
        total += actual[month]
        allowed = target * i / len(months)
        out.append(TrackPoint(month, total, allowed, total > allowed * (1 + tolerance)))
    return out


def track_intensity(base: float, target: float, months: Sequence[str], co2: Mapping[str, float],
                    activity: Mapping[str, float], *, tolerance: float = 0.0) -> list[TrackPoint]:
    """Cumulative intensity (Σ CO2 / Σ value added) against a path falling linearly from the base intensity to
    the target over the period; months without value added end the tracking."""
    if not months:
        raise FormulaInputError("a tracking period needs at least one month")
    out, c, a = [], 0.0, 0.0
    for i, month in enumerate(months, start=1):
        if month not in co2 or not activity.get(month, 0) > 0:
            break
        c, a = c + co2[month], a + activity[month]
        allowed = base + (target - base) * i / len(months)
        out.append(TrackPoint(month, c / a, allowed, c / a > allowed * (1 + tolerance)))
    return out
