"""Electricity-carbon factors (电碳因子, METHODS.md section 8): pure formulas, no I/O.

Four pieces, each a function of plain inputs:

- `trace_flows`: regional consumption factors with inter-regional flows, by proportional sharing (flow
  tracing), under one of two conventions for valuing exports (`EXPORTS_AT_CONSUMPTION`,
  `EXPORTS_AT_GENERATION`). Every result carries its conservation check.
- `fit_factors`: enterprise factors E = a + b*Q_elec (optionally with energy-mix terms), by ordinary least
  squares, per unit or per industry, with standard errors, R^2 and the error against the verified reports.
- `fit_fuel_models` / `simulate_region`: electricity -> coal / oil / gas CO2 ratios per industry, fitted on
  units with full data and applied to units with electricity data only, with uncertainty bands.
- `check_estimates`: the third-party check of estimates against verified emissions (MAPE, bias, worst cases)
  per industry or region, flagging factors whose error exceeds a bound.
- `holdout_estimates`: the estimates that check, made out of sample: each factor in use is refitted on the
  verified figures of the other months (or other enterprises) and checked on the held-out ones.

Example (METHODS.md section 8's three regions)::

    >>> result = trace_flows([Region("A", 600, 510), Region("B", 300, 0), Region("C", 100, 40)],
    ...                      [Flow("A", "B", 300), Flow("B", "C", 200)])
    >>> [round(f.intensity, 4) for f in result.factors]
    [0.85, 0.425, 0.4167]
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats
from scipy.sparse.linalg import spsolve

from carbon_domain.errors import GridFactorError

__all__ = [
    "MODEL_VERSION",
    "CONSERVATION_TOLERANCE",
    "EXPORTS_AT_CONSUMPTION",
    "EXPORTS_AT_GENERATION",
    "CONVENTIONS",
    "Convention",
    "Region",
    "Flow",
    "RegionalFactor",
    "FlowTracingResult",
    "trace_flows",
    "UnitPeriod",
    "FactorFit",
    "fit_factors",
    "FUELS",
    "FuelModel",
    "fit_fuel_models",
    "SimulatedUnit",
    "RegionSimulation",
    "simulate_region",
    "Estimate",
    "GroupError",
    "CheckReport",
    "check_estimates",
    "estimate_with_factors",
    "HOLDOUTS",
    "HoldOut",
    "HoldOutSplit",
    "held_out_unit",
    "holdout_estimates",
]

MODEL_VERSION: Final = "grid-factors/1"
CONSERVATION_TOLERANCE: Final = 1e-9  # relative: consumption-weighted emissions vs generation emissions

# Exports leave a region at its mixed consumption intensity: what it imports passes on through it
# (proportional sharing, as Electricity Maps' flow tracing). One sparse linear system couples all regions.
EXPORTS_AT_CONSUMPTION: Final = "consumption"
# Exports leave at the region's own generation intensity: a region passes on only what it generates, and
# keeps the carbon of its imports. No coupling: each region's factor follows from its neighbours' generation.
EXPORTS_AT_GENERATION: Final = "generation"
Convention = Literal["consumption", "generation"]
CONVENTIONS: Final = (EXPORTS_AT_CONSUMPTION, EXPORTS_AT_GENERATION)

FloatArray = npt.NDArray[np.float64]


# --- regional factors by flow tracing -----------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    """A region's own generation (MWh) and the CO2 of that generation (t)."""

    name: str
    generation_mwh: float
    emissions_t: float


@dataclass(frozen=True)
class Flow:
    """Electricity sent from one region to another over the period (MWh)."""

    source: str
    target: str
    mwh: float


@dataclass(frozen=True)
class RegionalFactor:
    """A region's consumption factor: what it consumes (generation + imports - exports) and that CO2."""

    region: str
    generation_mwh: float
    imports_mwh: float
    exports_mwh: float
    consumption_mwh: float
    intensity: float  # tCO2/MWh consumed
    consumption_emissions_t: float


@dataclass(frozen=True)
class FlowTracingResult:
    """All regions' consumption factors under one convention, with the conservation check."""

    convention: Convention
    factors: tuple[RegionalFactor, ...]
    generation_emissions_t: float
    consumption_emissions_t: float
    conservation_error: float  # |consumption - generation emissions| / generation emissions
    conserved: bool  # conservation_error <= CONSERVATION_TOLERANCE
    model_version: str = MODEL_VERSION

    def factor(self, region: str) -> RegionalFactor:
        """The factor of one region; GridFactorError naming the known regions otherwise."""
        for found in self.factors:
            if found.region == region:
                return found
        raise GridFactorError(f"no region {region!r} in this result; it has {[f.region for f in self.factors]}")


def _check_regions(regions: Sequence[Region], flows: Sequence[Flow]) -> dict[str, int]:
    if not regions:
        raise GridFactorError("flow tracing needs at least one region")
    index: dict[str, int] = {}
    for region in regions:
        if region.name in index:
            raise GridFactorError(f"region {region.name!r} is given twice; give each region once")
        for label, value in (("generation_mwh", region.generation_mwh), ("emissions_t", region.emissions_t)):
            if not math.isfinite(value) or value < 0:
                raise GridFactorError(f"region {region.name!r}: {label} must be a finite number >= 0, got {value}")
        index[region.name] = len(index)
    for flow in flows:
        for end in (flow.source, flow.target):
            if end not in index:
                raise GridFactorError(f"flow {flow.source}->{flow.target}: region {end!r} is not among the regions;"
                                      " add it with its generation and emissions")
        if flow.source == flow.target:
            raise GridFactorError(f"flow {flow.source}->{flow.target}: a region does not send electricity to itself")
        if not math.isfinite(flow.mwh) or flow.mwh < 0:
            raise GridFactorError(f"flow {flow.source}->{flow.target}: mwh must be a finite number >= 0, got {flow.mwh}")
    return index


def trace_flows(regions: Sequence[Region], flows: Sequence[Flow],
                convention: Convention = EXPORTS_AT_CONSUMPTION) -> FlowTracingResult:
    """Consumption factors of all regions (tCO2/MWh) under `convention` (see the module constants).

    Exports at consumption intensity: x_i (P_i + sum_j F_ji) = e_i + sum_j x_j F_ji for every region i, solved
    at once as a sparse system. Exports at generation intensity: region i consumes e_i - g_i X_i + sum_j g_j F_ji,
    with g = e / P and X_i its exports.
    """
    if convention not in CONVENTIONS:
        raise GridFactorError(f"convention must be one of {list(CONVENTIONS)}, got {convention!r}")
    index = _check_regions(regions, flows)
    n = len(regions)
    generation = np.array([r.generation_mwh for r in regions], dtype=np.float64)
    emissions = np.array([r.emissions_t for r in regions], dtype=np.float64)
    source = np.array([index[f.source] for f in flows], dtype=np.int64)
    target = np.array([index[f.target] for f in flows], dtype=np.int64)
    mwh = np.array([f.mwh for f in flows], dtype=np.float64)
    imports = np.bincount(target, weights=mwh, minlength=n).astype(np.float64)
    exports = np.bincount(source, weights=mwh, minlength=n).astype(np.float64)
    consumption = generation + imports - exports
    for i in np.flatnonzero(consumption < -1e-9 * np.maximum(generation + imports, 1.0)):
        raise GridFactorError(f"region {regions[int(i)].name!r} exports {exports[i]:g} MWh but generates and imports only"
                              f" {generation[i] + imports[i]:g} MWh; check its flows")
    for i in np.flatnonzero(emissions > 0):
        if generation[i] == 0:
            raise GridFactorError(f"region {regions[int(i)].name!r} has emissions {emissions[i]:g} t without generation")
    if convention == EXPORTS_AT_CONSUMPTION:
        inflow = generation + imports
        for i in np.flatnonzero(inflow == 0):
            raise GridFactorError(f"region {regions[int(i)].name!r} neither generates nor imports electricity: its"
                                  " consumption factor is undefined; leave it out")
        # diag(P + I) - F^T: row i takes x_j F_ji for every flow j -> i
        system = (sparse.diags(inflow, format="csr")
                  - sparse.csr_matrix((mwh, (target, source)), shape=(n, n))).tocsc()
        intensity = np.asarray(spsolve(system, emissions), dtype=np.float64).reshape(n)
        consumed_t = intensity * consumption
    else:
        for i in np.flatnonzero(exports > generation * (1 + 1e-12)):
            raise GridFactorError(f"region {regions[int(i)].name!r} exports {exports[i]:g} MWh but generates"
                                  f" {generation[i]:g} MWh: with exports at generation intensity a region passes on"
                                  " only what it generates; use the consumption convention")
        own = np.divide(emissions, generation, out=np.zeros(n), where=generation > 0)
        consumed_t = emissions - own * exports + np.bincount(target, weights=own[source] * mwh, minlength=n)
        intensity = np.divide(consumed_t, consumption, out=np.zeros(n), where=consumption > 0)
    generated_total = float(emissions.sum())
    consumed_total = float(consumed_t.sum())
    error = abs(consumed_total - generated_total) / generated_total if generated_total > 0 else abs(consumed_total)
    factors = tuple(
        RegionalFactor(region=r.name, generation_mwh=float(generation[i]), imports_mwh=float(imports[i]),
                       exports_mwh=float(exports[i]), consumption_mwh=float(consumption[i]),
                       intensity=float(intensity[i]), consumption_emissions_t=float(consumed_t[i]))
        for i, r in enumerate(regions))
    return FlowTracingResult(convention=convention, factors=factors, generation_emissions_t=generated_total,
                             consumption_emissions_t=consumed_total, conservation_error=error,
                             conserved=error <= CONSERVATION_TOLERANCE)


# --- enterprise factors: E = a + b*Q_elec (+ mix terms) -----------------------------------------------------

@dataclass(frozen=True)
class UnitPeriod:
    """One unit's period (a month, 2025-03): electricity use, the fuels' CO2 where known, verified emissions.

    `coal_t`, `oil_t`, `gas_t` are the CO2 (t) of the unit's coal, oil and gas use; None means not known.
    `mix` holds optional energy-mix terms (e.g. {"gas_share": 0.2}) for the fit.
    """

    unit_id: str
    industry: str
    region: str
    period: str
    electricity_mwh: float
    verified_t: float | None = None
    coal_t: float | None = None
    oil_t: float | None = None
    gas_t: float | None = None
    mix: Mapping[str, float] = field(default_factory=dict)

    @property
    def has_fuel_data(self) -> bool:
        return self.coal_t is not None and self.oil_t is not None and self.gas_t is not None


@dataclass(frozen=True)
class FactorFit:
    """One fitted factor: coefficients by term ('intercept', 'electricity_mwh', then mix terms)."""

    scope: Literal["unit", "industry"]
    scope_id: str
    terms: tuple[str, ...]
    coefficients: tuple[float, ...]
    std_errors: tuple[float, ...]
    period_from: str
    period_to: str
    n: int
    r2: float
    mape: float  # of the fitted values against the verified reports (fraction, 0.05 = 5 %)
    bias: float  # mean signed relative error of the fitted values (fraction)
    model_version: str = MODEL_VERSION
    factor_id: str | None = None  # its id in the factor library, once stored

    def estimate(self, electricity_mwh: float, mix: Mapping[str, float] | None = None) -> float:
        """The factor's emissions (t) for a period's electricity use (and mix terms)."""
        values = {"intercept": 1.0, "electricity_mwh": electricity_mwh, **(mix or {})}
        missing = [t for t in self.terms if t not in values]
        if missing:
            raise GridFactorError(f"factor {self.scope}:{self.scope_id} needs the mix terms {missing}")
        return sum(c * values[t] for c, t in zip(self.coefficients, self.terms, strict=True))


def _group_index(keys: Sequence[str]) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Sorted group names and each key's position among them (a dict, not np.unique: sorting a million
    Python strings in numpy's object arrays is what made fits slow)."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64, count=len(keys))
    names = sorted(index)
    rank = np.empty(len(names), dtype=np.int64)
    rank[[index[name] for name in names]] = np.arange(len(names))
    return names, rank[codes]


def fit_factors(data: Sequence[UnitPeriod], *, by: Literal["unit", "industry"] = "unit",
                mix_terms: Sequence[str] = (), min_n: int | None = None) -> tuple[list[FactorFit], dict[str, str]]:
    """OLS fits of verified emissions on electricity use (and `mix_terms`), one per unit or per industry.

    Periods without verified emissions are left out. Returns the fits and, for groups that cannot be
    fitted, the reason by group (fewer periods than terms + 1, or no spread in the electricity use).
    All groups are solved together as a batch of small normal-equation systems, so 60,000 units take
    seconds, not minutes.
    """
    if by not in ("unit", "industry"):
        raise GridFactorError(f"by must be 'unit' or 'industry', got {by!r}")
    terms = ("intercept", "electricity_mwh", *mix_terms)
    k = len(terms)
    needed = max(min_n if min_n is not None else k + 1, k + 1)  # one spare degree of freedom for the errors
    rows = [d for d in data if d.verified_t is not None]
    if not rows:
        return [], {}
    for d in rows:
        missing = [t for t in mix_terms if t not in d.mix]
        if missing:
            raise GridFactorError(f"unit {d.unit_id} period {d.period}: mix terms {missing} are missing")
    names, group = _group_index([d.unit_id if by == "unit" else d.industry for d in rows])
    design = np.empty((len(rows), k), dtype=np.float64)
    design[:, 0] = 1.0
    design[:, 1] = [d.electricity_mwh for d in rows]
    for j, term in enumerate(mix_terms, start=2):
        design[:, j] = [d.mix[term] for d in rows]
    y = np.array([d.verified_t for d in rows], dtype=np.float64)
    periods = np.array([d.period for d in rows], dtype=str)
    return _fit_groups(design, y, group, names, periods, terms, by, needed)


def _fit_groups(design: FloatArray, y: FloatArray, group: npt.NDArray[np.int64], names: list[str],
                periods: npt.NDArray[np.str_], terms: tuple[str, ...], by: Literal["unit", "industry"],
                needed: int) -> tuple[list[FactorFit], dict[str, str]]:
    g, k = len(names), design.shape[1]
    counts = np.bincount(group, minlength=g)
    # scale the columns so that MWh in the ten thousands and shares below one solve equally well
    scale = np.sqrt(np.mean(design ** 2, axis=0))
    scale[scale == 0] = 1.0
    z = design / scale
    gram = np.zeros((g, k, k))
    np.add.at(gram, group, z[:, :, None] * z[:, None, :])
    moment = np.zeros((g, k))
    np.add.at(moment, group, z * y[:, None])
    skipped: dict[str, str] = {}
    usable = counts >= needed
    # a group whose electricity use (or a mix term) never changes has a singular system
    conditioned = np.zeros(g, dtype=bool)
    conditioned[usable] = np.linalg.cond(gram[usable]) < 1e12
    for i in np.flatnonzero(~usable):
        skipped[names[i]] = f"{counts[i]} periods with verified emissions; a fit of {k} terms needs {needed}"
    for i in np.flatnonzero(usable & ~conditioned):
        skipped[names[i]] = "the electricity use (or a mix term) does not vary over the periods; nothing to fit"
    ok = np.flatnonzero(conditioned)
    if ok.size == 0:
        return [], skipped
    beta_z = np.linalg.solve(gram[ok], moment[ok][:, :, None])[:, :, 0]
    beta = np.zeros((g, k))
    beta[ok] = beta_z / scale
    inverse = np.zeros((g, k, k))
    inverse[ok] = np.linalg.inv(gram[ok])
    fitted = np.einsum("ij,ij->i", design, beta[group])
    residual = y - fitted
    sse = np.bincount(group, weights=residual ** 2, minlength=g)
    sums = np.bincount(group, weights=y, minlength=g)
    mean = np.divide(sums, counts, out=np.zeros(g), where=counts > 0)
    sst = np.bincount(group, weights=(y - mean[group]) ** 2, minlength=g)
    sigma2 = np.divide(sse, counts - k, out=np.zeros(g), where=counts > k)
    std_errors = np.sqrt(np.maximum(sigma2[:, None] * np.diagonal(inverse, axis1=1, axis2=2), 0.0)) / scale
    relative = np.divide(fitted - y, y, out=np.full_like(y, np.nan), where=y != 0)
    valid = np.isfinite(relative)
    rel_n = np.bincount(group, weights=valid.astype(np.float64), minlength=g)
    rel_abs = np.bincount(group, weights=np.where(valid, np.abs(relative), 0.0), minlength=g)
    rel_sum = np.bincount(group, weights=np.where(valid, relative, 0.0), minlength=g)
    order = np.lexsort((periods, group))
    first = np.full(g, -1)
    last = np.full(g, -1)
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    ends = np.r_[starts[1:], len(order)] - 1
    first[sorted_group[starts]] = order[starts]
    last[sorted_group[ends]] = order[ends]
    fits = [
        FactorFit(scope=by, scope_id=names[i], terms=terms, coefficients=tuple(float(b) for b in beta[i]),
                  std_errors=tuple(float(s) for s in std_errors[i]), period_from=str(periods[first[i]]),
                  period_to=str(periods[last[i]]), n=int(counts[i]),
                  r2=float(1.0 - sse[i] / sst[i]) if sst[i] > 0 else 1.0,
                  mape=float(rel_abs[i] / rel_n[i]) if rel_n[i] else math.nan,
                  bias=float(rel_sum[i] / rel_n[i]) if rel_n[i] else math.nan)
        for i in ok]
    return fits, skipped


# --- electricity -> coal / oil / gas models ------------------------------------------------------------------

FUELS: Final = ("coal", "oil", "gas")


@dataclass(frozen=True)
class FuelModel:
    """An industry's ratios of fuel CO2 to electricity use (tCO2/MWh), fitted on units with full data.

    Ratio estimator (variance proportional to electricity use): r = sum(CO2) / sum(MWh); `dispersion` is
    sigma^2 in Var(CO2 | MWh) = sigma^2 * MWh, from the residuals of the total fuel CO2.
    """

    industry: str
    ratios: Mapping[str, float]  # by fuel
    total_ratio: float
    dispersion: float
    n: int  # unit-periods with full data
    electricity_mwh: float  # their electricity use, summed
    model_version: str = MODEL_VERSION


def fit_fuel_models(data: Sequence[UnitPeriod]) -> tuple[dict[str, FuelModel], dict[str, str]]:
    """Per industry, the fuel ratios from its unit-periods with full fuel data and electricity use > 0."""
    full: dict[str, list[UnitPeriod]] = {}
    for d in data:
        if d.has_fuel_data and d.electricity_mwh > 0:
            full.setdefault(d.industry, []).append(d)
    models: dict[str, FuelModel] = {}
    skipped = {d.industry: "no unit-period with coal, oil and gas CO2 and electricity use" for d in data
               if d.industry not in full}
    for industry, rows in sorted(full.items()):
        if len(rows) < 2:
            skipped[industry] = "one unit-period with full data; a ratio with an uncertainty needs at least 2"
            continue
        x = np.array([d.electricity_mwh for d in rows])
        fuel = {name: np.array([getattr(d, f"{name}_t") for d in rows], dtype=np.float64) for name in FUELS}
        total = fuel["coal"] + fuel["oil"] + fuel["gas"]
        ratio = float(total.sum() / x.sum())
        dispersion = float(np.sum((total - ratio * x) ** 2 / x) / (len(rows) - 1))
        models[industry] = FuelModel(industry=industry, ratios={n: float(v.sum() / x.sum()) for n, v in fuel.items()},
                                     total_ratio=ratio, dispersion=dispersion, n=len(rows),
                                     electricity_mwh=float(x.sum()))
    return models, skipped


@dataclass(frozen=True)
class SimulatedUnit:
    """A unit-period's fuel CO2 simulated from its electricity use: marked estimated, with its model."""

    unit_id: str
    industry: str
    period: str
    electricity_mwh: float
    by_fuel_t: Mapping[str, float]
    total_t: float
    low_t: float
    high_t: float
    model_version: str = MODEL_VERSION
    quality: str = "estimated"


@dataclass(frozen=True)
class RegionSimulation:
    """A region's fuel CO2 (仿真计算): measured where units report fuels, simulated for the rest."""

    region: str
    measured_t: float
    simulated_t: float
    total_t: float
    low_t: float
    high_t: float
    simulated_share: float  # of total_t
    confidence: float
    units: tuple[SimulatedUnit, ...]
    unmodelled: tuple[str, ...]  # unit-periods (unit_id@period) of industries without a model
    model_version: str = MODEL_VERSION


def simulate_region(region: str, data: Sequence[UnitPeriod], models: Mapping[str, FuelModel], *,
                    confidence: float = 0.95) -> RegionSimulation:
    """Measured fuel CO2 of the region's full-data units plus simulated CO2 of its electricity-only units.

    Bands are prediction intervals of the ratio model: Var = sigma^2 (X + X^2 / X_fit) for a simulated
    electricity use X, with a t quantile on the fit's n - 1 degrees of freedom; the region's band adds the
    variances per industry, treating each industry's fit separately.
    """
    if not 0 < confidence < 1:
        raise GridFactorError(f"confidence must be between 0 and 1, got {confidence}")
    measured = 0.0
    units: list[SimulatedUnit] = []
    unmodelled: list[str] = []
    per_industry: dict[str, float] = {}
    for d in data:
        if d.region != region:
            continue
        if d.has_fuel_data:
            measured += float((d.coal_t or 0.0) + (d.oil_t or 0.0) + (d.gas_t or 0.0))
            continue
        model = models.get(d.industry)
        if model is None:
            unmodelled.append(f"{d.unit_id}@{d.period}")
            continue
        x = d.electricity_mwh
        half = _half_width(model, x, confidence)
        total = model.total_ratio * x
        units.append(SimulatedUnit(unit_id=d.unit_id, industry=d.industry, period=d.period, electricity_mwh=x,
                                   by_fuel_t={n: r * x for n, r in model.ratios.items()}, total_t=total,
                                   low_t=max(total - half, 0.0), high_t=total + half))
        per_industry[d.industry] = per_industry.get(d.industry, 0.0) + x
    simulated = sum(u.total_t for u in units)
    # per industry the simulated total is one prediction of X = sum of its units' use; industries add up
    variance = sum(_variance(models[i], x) * _t(models[i], confidence) ** 2 for i, x in per_industry.items())
    half = math.sqrt(variance)
    total = measured + simulated
    return RegionSimulation(region=region, measured_t=measured, simulated_t=simulated, total_t=total,
                            low_t=measured + max(simulated - half, 0.0), high_t=total + half,
                            simulated_share=simulated / total if total > 0 else 0.0, confidence=confidence,
                            units=tuple(units), unmodelled=tuple(unmodelled))


def _variance(model: FuelModel, x: float) -> float:
    return model.dispersion * (x + x * x / model.electricity_mwh)


def _t(model: FuelModel, confidence: float) -> float:
    return float(stats.t.ppf(0.5 + confidence / 2, model.n - 1))


def _half_width(model: FuelModel, x: float, confidence: float) -> float:
    return _t(model, confidence) * math.sqrt(_variance(model, x))


# --- third-party check ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """An estimated figure next to the verifier's figure for the same unit and period."""

    unit_id: str
    industry: str
    region: str
    period: str
    factor_id: str
    estimated_t: float
    verified_t: float

    @property
    def relative_error(self) -> float:
        return (self.estimated_t - self.verified_t) / self.verified_t


@dataclass(frozen=True)
class GroupError:
    """The error of the estimates of one industry, region or factor against the verified figures."""

    key: str
    n: int
    mape: float  # mean absolute relative error (fraction)
    bias: float  # mean signed relative error (fraction): > 0 estimates too high
    worst: tuple[Estimate, ...]  # largest absolute relative errors first
    flagged: bool  # mape above the bound


@dataclass(frozen=True)
class CheckReport:
    """The third-party check: errors by industry, by region and by factor, and what was left out."""

    bound: float
    by_industry: tuple[GroupError, ...]
    by_region: tuple[GroupError, ...]
    by_factor: tuple[GroupError, ...]
    flagged_factors: tuple[str, ...]
    skipped: tuple[str, ...]  # unit@period whose verified figure is 0 (no relative error)
    model_version: str = MODEL_VERSION


def check_estimates(estimates: Sequence[Estimate], *, bound: float = 0.1, worst: int = 5) -> CheckReport:
    """MAPE, bias and the `worst` cases per industry, region and factor; factors with MAPE > `bound` flagged."""
    if not bound > 0 or not math.isfinite(bound):
        raise GridFactorError(f"bound must be a positive fraction (0.1 = 10 %), got {bound}")
    usable = [e for e in estimates if e.verified_t != 0]
    skipped = tuple(f"{e.unit_id}@{e.period}" for e in estimates if e.verified_t == 0)

    def grouped(key: str) -> tuple[GroupError, ...]:
        groups: dict[str, list[Estimate]] = {}
        for e in usable:
            groups.setdefault(getattr(e, key), []).append(e)
        found = []
        for name, members in sorted(groups.items()):
            errors = np.array([m.relative_error for m in members])
            mape = float(np.mean(np.abs(errors)))
            ranked = sorted(members, key=lambda m: abs(m.relative_error), reverse=True)[:worst]
            found.append(GroupError(key=name, n=len(members), mape=mape, bias=float(np.mean(errors)),
                                    worst=tuple(ranked), flagged=mape > bound))
        return tuple(found)

    by_factor = grouped("factor_id")
    return CheckReport(bound=bound, by_industry=grouped("industry"), by_region=grouped("region"), by_factor=by_factor,
                       flagged_factors=tuple(g.key for g in by_factor if g.flagged), skipped=skipped)


def estimate_with_factors(data: Sequence[UnitPeriod], *, pins: Mapping[str, FactorFit],
                          unit_factors: Mapping[str, FactorFit],
                          industry_factors: Mapping[str, FactorFit]) -> tuple[list[Estimate], list[str]]:
    """Estimates of the verified unit-periods by the factor each unit uses: its hand pin, else its own newest
    factor, else its industry's. Returns the estimates and the unit-periods no factor covers (unit@period)."""
    estimates: list[Estimate] = []
    uncovered: list[str] = []
    for d in data:
        if d.verified_t is None:
            continue
        fit = pins.get(d.unit_id) or unit_factors.get(d.unit_id) or industry_factors.get(d.industry)
        if fit is None or any(t not in ("intercept", "electricity_mwh") and t not in d.mix for t in fit.terms):
            uncovered.append(f"{d.unit_id}@{d.period}")
            continue
        estimates.append(Estimate(unit_id=d.unit_id, industry=d.industry, region=d.region, period=d.period,
                                  factor_id=fit.factor_id or f"{fit.scope}:{fit.scope_id}",
                                  estimated_t=fit.estimate(d.electricity_mwh, d.mix), verified_t=d.verified_t))
    return estimates, uncovered


# --- out-of-sample estimates for the check ------------------------------------------------------------------

HoldOut = Literal["months", "units", "none"]
HOLDOUTS: Final = ("months", "units", "none")


@dataclass(frozen=True)
class HoldOutSplit:
    """How the verified unit-periods were split between fitting and checking."""

    kind: HoldOut
    out_of_sample: bool  # False only for kind 'none' (the factors' own fits checked on their own data)
    fitted_on: int  # verified unit-periods the refits used
    checked: int  # verified unit-periods held out and checked
    test_periods: tuple[str, ...]  # kind 'months': the held-out months
    test_units: tuple[str, ...]  # kind 'units': the held-out units
    note: str


def held_out_unit(unit_id: str, every: int) -> bool:
    """One unit in `every`, chosen by a hash of its id so that a rerun holds out the same units."""
    return int(hashlib.sha256(unit_id.encode()).hexdigest()[:8], 16) % every == 0


def _in_use(d: UnitPeriod, pins: Mapping[str, FactorFit], unit_factors: Mapping[str, FactorFit],
            industry_factors: Mapping[str, FactorFit]) -> FactorFit | None:
    return pins.get(d.unit_id) or unit_factors.get(d.unit_id) or industry_factors.get(d.industry)


def holdout_estimates(data: Sequence[UnitPeriod], *, pins: Mapping[str, FactorFit],
                      unit_factors: Mapping[str, FactorFit], industry_factors: Mapping[str, FactorFit],
                      holdout: HoldOut = "months", test_months: int = 3,
                      every: int = 5) -> tuple[list[Estimate], list[str], HoldOutSplit]:
    """Estimates of verified unit-periods that the factors making them were not fitted on.

    - 'months': each unit's last `test_months` months with verified figures are held out; each factor in use
      (its pin, else the unit's own, else its industry's) is refitted, same scope and terms, on the figures not
      held out (of all units) and checked on the held-out ones.
    - 'units': one unit in `every` (by a hash of its id) is held out; the industry factors are refitted on the
      other units and checked on the held-out units, whose own data they never saw (a unit factor cannot be
      checked on a unit it was not fitted on, so this checks how industry factors carry over).
    - 'none': the stored factors checked on the figures they were fitted on (in-sample, optimistic).

    Each estimate names the library factor in use (its factor_id), so that flags point at library versions.
    Returns the estimates, the held-out unit-periods that could not be estimated (unit@period: no factor, or too
    few figures left to refit) and the split.
    """
    if holdout not in HOLDOUTS:
        raise GridFactorError(f"holdout must be one of {list(HOLDOUTS)}, got {holdout!r}")
    verified = [d for d in data if d.verified_t is not None]
    if holdout == "none":
        estimates, uncovered = estimate_with_factors(verified, pins=pins, unit_factors=unit_factors,
                                                     industry_factors=industry_factors)
        return estimates, uncovered, HoldOutSplit(
            kind="none", out_of_sample=False, fitted_on=len(verified), checked=len(verified), test_periods=(),
            test_units=(), note="in-sample: the factors are checked on the verified figures they were fitted on,"
                                " which understates their error")
    if holdout == "months":
        if test_months < 1:
            raise GridFactorError(f"test_months must be at least 1, got {test_months}")
        months_of: dict[str, list[str]] = {}
        for d in verified:
            months_of.setdefault(d.unit_id, []).append(d.period)
        held = {(unit, period) for unit, periods in months_of.items() for period in sorted(periods)[-test_months:]}
        train = [d for d in verified if (d.unit_id, d.period) not in held]
        test = [d for d in verified if (d.unit_id, d.period) in held]
        if verified and not train:
            raise GridFactorError(f"every unit has at most {test_months} verified month(s): holding them out leaves"
                                  " nothing to fit on; hold out fewer months, import more verified months, or hold"
                                  " out units (holdout=units)")
        split = HoldOutSplit(kind="months", out_of_sample=True, fitted_on=len(train), checked=len(test),
                             test_periods=tuple(sorted({period for _, period in held})), test_units=(),
                             note=f"each unit's last {test_months} verified month(s) held out; every factor in use"
                                  " refitted (same scope and terms) on the other months and checked on them")
    else:
        if every < 2:
            raise GridFactorError(f"every must be at least 2 (hold out one unit in every), got {every}")
        held_units = {d.unit_id for d in verified if held_out_unit(d.unit_id, every)}
        if not held_units or held_units == {d.unit_id for d in verified}:
            raise GridFactorError(f"holding out one unit in {every} leaves {len(held_units)} unit(s) held out of"
                                  f" {len({d.unit_id for d in verified})}: choose another 'every' or hold out"
                                  " months (holdout=months)")
        train = [d for d in verified if d.unit_id not in held_units]
        test = [d for d in verified if d.unit_id in held_units]
        split = HoldOutSplit(kind="units", out_of_sample=True, fitted_on=len(train), checked=len(test),
                             test_periods=(), test_units=tuple(sorted(held_units)),
                             note=f"industry factors refitted on the other units and checked on one unit in"
                                  f" {every} (chosen by a hash of its id), which they never saw")
    refits: dict[tuple[str, tuple[str, ...]], dict[str, FactorFit]] = {}

    def refit(scope: Literal["unit", "industry"], terms: tuple[str, ...], scope_id: str) -> FactorFit | None:
        key = (scope, terms)
        if key not in refits:
            mix = terms[2:]
            usable = [d for d in train if all(t in d.mix for t in mix)]
            refits[key] = {f.scope_id: f for f in fit_factors(usable, by=scope, mix_terms=mix)[0]}
        return refits[key].get(scope_id)

    estimates: list[Estimate] = []
    uncovered: list[str] = []
    for d in test:
        if holdout == "units":  # the industry's factor (the library's, if any, names it), refitted without the unit
            fit = industry_factors.get(d.industry)
            terms = fit.terms if fit is not None else ("intercept", "electricity_mwh")
            label = fit.factor_id if fit is not None and fit.factor_id else f"industry:{d.industry}"
            again = refit("industry", terms, d.industry)
        else:
            fit = _in_use(d, pins, unit_factors, industry_factors)
            label = (fit.factor_id or f"{fit.scope}:{fit.scope_id}") if fit is not None else ""
            again = refit(fit.scope, fit.terms, fit.scope_id) if fit is not None else None
        if again is None or any(t not in ("intercept", "electricity_mwh") and t not in d.mix for t in again.terms):
            uncovered.append(f"{d.unit_id}@{d.period}")
            continue
        estimates.append(Estimate(unit_id=d.unit_id, industry=d.industry, region=d.region, period=d.period,
                                  factor_id=label, estimated_t=again.estimate(d.electricity_mwh, d.mix),
                                  verified_t=float(d.verified_t)))  # type: ignore[arg-type]
    return estimates, uncovered, split
