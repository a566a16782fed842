"""Enterprise analysis (docs/analysis.md, "Enterprise side"; METHODS.md section 7): a site's CO2 change split by
process with additive LMDI, and its emissions projected to the year end and over the next years from its monthly
history with Kaya drivers in which the product output takes the place of population and GDP.

Pure functions over plain numbers: the API (api/analysis/enterprise_router.py) reads the metered figures of the
emissions service and passes them in. Units: CO2 in t, energy in kWh in (the rollups' unit) and tce out
(1 kgce = 29.3076 MJ, the calorific equivalent), output in t of the site's product.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from carbon_domain.analysis import (
    Decomposition,
    Factor,
    ProjectedYear,
    Projection,
    Sector,
    Suggestion,
    kaya_factors,
    lmdi,
    suggest,
)
from carbon_domain.errors import FormulaInputError

__all__ = [
    "ENTERPRISE_DRIVERS",
    "ENTERPRISE_PRESETS",
    "MIN_BAND_YEARS",
    "KWH_PER_TCE",
    "EnterpriseScenario",
    "EnterpriseYear",
    "ProcessFigures",
    "YearEnd",
    "enterprise_band",
    "enterprise_factors",
    "enterprise_preset",
    "enterprise_suggestions",
    "growth_spread",
    "process_lmdi",
    "process_sectors",
    "project_enterprise",
    "year_end",
]

KWH_PER_TCE = 29.3076e3 / 3.6
"""1 tce = 29.3076 GJ = 8141 kWh of energy content (the calorific equivalent, 0.1229 kgce/kWh)."""
Z95 = 1.959964


@dataclass(frozen=True)
class ProcessFigures:
    """One process (工序) of a site in one period: its metered energy (kWh content), CO2 (t) and its own output
    (t of its product), None when no production counter of the process exists."""

    process: str
    energy_kwh: float
    co2: float
    output: float | None = None


def process_sectors(rows: Sequence[ProcessFigures], site_output: float) -> list[Sector]:
    """LMDI sectors of a site's processes: energy in tce; a process without its own production counter is
    credited with the site's output (ratio 1, so it never has a structure effect of its own)."""
    if not site_output > 0 or not math.isfinite(site_output):
        raise FormulaInputError(f"the site's output must be positive, got {site_output}; pick a period in which "
                                "the production counters counted")
    for r in rows:
        if r.output is not None and not r.output > 0 and r.co2 > 0:
            raise FormulaInputError(f"process {r.process!r} emitted {r.co2:.3f} t CO2 but its production counters "
                                    "counted nothing: its energy per tonne is undefined; check its counters or pick "
                                    "another period")
    return [Sector(r.process, site_output if r.output is None else r.output, r.energy_kwh / KWH_PER_TCE, r.co2)
            for r in rows]


def process_lmdi(base: Sequence[ProcessFigures], target: Sequence[ProcessFigures], *, base_output: float,
                 target_output: float) -> Decomposition:
    """Additive LMDI-I of C = Σ_i Q·(Y_i/Q)·(E_i/Y_i)·(C_i/E_i) over a site's processes i.

    Q is the site's output of its product, Y_i the process's own output (Q when it has no counter), E_i its energy
    (tce) and C_i its CO2. The effects are production (Q), process structure (Y_i/Q, e.g. sinter per tonne of
    crude steel), process energy intensity (E_i/Y_i) and emission factor (C_i/E_i); they sum exactly to ΔC.
    """
    return lmdi(process_sectors(base, base_output), process_sectors(target, target_output),
                total_activity=(base_output, target_output))


# --- forecast ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearEnd:
    """The year's CO2 so far, the projection to its end and a 95 % band from the spread of the months."""

    year: int
    months_known: int
    actual: float
    projected: float
    low: float
    high: float
    monthly_rate: float


def year_end(year: int, months: Mapping[int, float]) -> YearEnd:
    """CO2 at the end of `year` from its known months {1..12: tCO2}: the actual plus the mean month (the run
    rate) for each missing month; the band is ± 1.96 · s · √m (s the months' standard deviation, m missing)."""
    known = {m: v for m, v in months.items() if 1 <= m <= 12}
    if len(known) != len(months):
        raise FormulaInputError(f"months are 1 to 12, got {sorted(set(months) - set(known))}")
    if not known:
        raise FormulaInputError(f"no month of {year} has emissions yet; project from a year with metered months")
    if any(v < 0 or not math.isfinite(v) for v in known.values()):
        raise FormulaInputError("monthly CO2 must be non-negative numbers")
    actual = math.fsum(known.values())
    rate = actual / len(known)
    missing = 12 - len(known)
    spread = statistics.stdev(known.values()) if len(known) > 1 else 0.0
    half = Z95 * spread * math.sqrt(missing)
    projected = actual + rate * missing
    return YearEnd(year, len(known), actual, projected, max(actual, projected - half), projected + half, rate)


@dataclass(frozen=True)
class EnterpriseScenario:
    """Yearly growth paths of the Kaya drivers of C = Q · (E/Q) · (C/E): output Q grows by `output_growth` in the
    first projected year and by `output_step` less (or more) each year after; energy per tonne E/Q changes by
    `intensity_change` a year and CO2 per tce C/E by `factor_change` (energy structure, purchased power's grid
    factor). Rates are fractions: -0.02 is 2 % less a year."""

    name: str
    output_growth: float
    output_step: float
    intensity_change: float
    factor_change: float

    def __post_init__(self) -> None:
        for label, value in (("output_growth", self.output_growth), ("intensity_change", self.intensity_change),
                             ("factor_change", self.factor_change)):
            if not -0.5 <= value <= 0.5:
                raise FormulaInputError(f"{label} must be a yearly rate between -0.5 and 0.5, got {value}")
        if not -0.1 <= self.output_step <= 0.1:
            raise FormulaInputError(f"output_step must be between -0.1 and 0.1 a year, got {self.output_step}")


ENTERPRISE_PRESETS: dict[str, EnterpriseScenario] = {
    # output still growing and levelling off; slow efficiency gains as today
    "baseline": EnterpriseScenario("baseline", 0.03, -0.005, -0.01, -0.005),
    # energy-saving retrofits and more green power
    "policy": EnterpriseScenario("policy", 0.02, -0.005, -0.025, -0.015),
    # ultra-low-emission retrofits, scrap-based EAF steel and green power purchase
    "enhanced": EnterpriseScenario("enhanced", 0.01, -0.005, -0.04, -0.03),
}


def enterprise_preset(name: str) -> EnterpriseScenario:
    """A preset scenario by name (baseline, policy, enhanced)."""
    try:
        return ENTERPRISE_PRESETS[name]
    except KeyError:
        raise FormulaInputError(f"unknown scenario {name!r}; use one of {sorted(ENTERPRISE_PRESETS)}") from None


@dataclass(frozen=True)
class EnterpriseYear:
    year: int
    output: float
    energy: float
    co2: float
    is_base: bool = False


def project_enterprise(*, year: int, output: float, energy: float, co2: float, scenario: EnterpriseScenario,
                       end_year: int) -> tuple[list[EnterpriseYear], EnterpriseYear]:
    """Years `year` (the base: output t, energy tce, CO2 t) to `end_year` under `scenario`, and the peak year
    (the first year with the highest CO2; the base year when emissions only fall)."""
    if not (output > 0 and energy > 0 and co2 > 0):
        raise FormulaInputError(f"the base year needs positive output, energy and CO2, got {output}, {energy}, "
                                f"{co2}; choose a year with metered production and emissions")
    if not year < end_year <= year + 60:
        raise FormulaInputError(f"end_year ({end_year}) must be after the base year ({year}) and at most 60 later")
    q, intensity, factor = output, energy / output, co2 / energy
    years = [EnterpriseYear(year, output, energy, co2, True)]
    for n in range(1, end_year - year + 1):
        # the output's rate is kept within ±50 % a year however long the step runs
        q *= 1 + min(0.5, max(-0.5, scenario.output_growth + scenario.output_step * (n - 1)))
        intensity *= 1 + scenario.intensity_change
        factor *= 1 + scenario.factor_change
        years.append(EnterpriseYear(year + n, q, q * intensity, q * intensity * factor))
    peak = max(years, key=lambda y: (y.co2, -y.year))
    return years, peak


# --- ranking, suggestions and the band --------------------------------------------------------------------------

ENTERPRISE_DRIVERS = {"gdp_per_capita": "output", "energy_intensity": "energy_intensity",
                      "carbon_per_energy": "emission_factor"}
"""The region's Kaya factor names (analysis.kaya_factors) and the enterprise driver each stands for when the
population is held at 1: GDP per capita is then the output Q, energy per GDP the energy per tonne E/Q."""
_REGION_NAMES = {v: k for k, v in ENTERPRISE_DRIVERS.items()}
MIN_BAND_YEARS = 4
"""Whole calendar years of history a band needs (three yearly changes, two degrees of freedom)."""


def _as_region_year(y: EnterpriseYear) -> ProjectedYear:
    return ProjectedYear(y.year, 1.0, y.output, y.energy, y.co2, None, None)


def enterprise_factors(years: Sequence[EnterpriseYear], peak: EnterpriseYear) -> tuple[Factor, ...]:
    """Each Kaya driver's contribution (t CO2) to the change from the base year to the peak year (to the last
    year when the base year is the peak), ranked by size: the region's LMDI (analysis.kaya_factors) with the
    population held at 1, so the contributions are L(C_end, C_base) · ln(driver ratio) and sum to the change."""
    end = peak if peak.year > years[0].year else years[-1]
    factors = kaya_factors(_as_region_year(years[0]), _as_region_year(end))
    return tuple(replace(f, name=ENTERPRISE_DRIVERS[f.name]) for f in factors if f.name in ENTERPRISE_DRIVERS)


def enterprise_suggestions(years: Sequence[EnterpriseYear], peak: EnterpriseYear, factors: Sequence[Factor],
                           decomposition: Decomposition | None = None) -> list[Suggestion]:
    """The region's rules (analysis.SUGGESTION_RULES, applied by analysis.suggest) on the enterprise path: the
    output plays GDP per capita in `growth_driven`, and the by-process LMDI names the one process with the
    largest structure, intensity or emission-factor effect."""
    projection = Projection("kaya", "enterprise", tuple(_as_region_year(y) for y in years), peak.year, peak.co2,
                            peak.year < years[-1].year, None, None, None,
                            tuple(replace(f, name=_REGION_NAMES[f.name]) for f in factors))
    out = []
    for s in suggest(projection, decomposition, top=1):
        if s.rule == "growth_driven":
            s = Suggestion(s.rule, {**s.params, "factor": ENTERPRISE_DRIVERS[str(s.params["factor"])]})
        out.append(s)
    return out


def growth_spread(annual_co2: Sequence[float]) -> float | None:
    """The residual spread of a site's historical Kaya path: the sample standard deviation of its yearly log
    changes of CO2 (ln Q + ln E/Q + ln C/E changes, summed) about their mean. None with fewer than
    MIN_BAND_YEARS whole years or a year without CO2."""
    if len(annual_co2) < MIN_BAND_YEARS or any(not c > 0 for c in annual_co2):
        return None
    changes = [math.log(b / a) for a, b in itertools.pairwise(annual_co2)]
    return statistics.stdev(changes)


def enterprise_band(years: Sequence[EnterpriseYear], spread: float) -> list[tuple[float, float]]:
    """(low, high) of each year: C · exp(∓ 1.96 · s · √k), k years after the base year (a random walk of the
    log CO2 about the scenario's path, its steps as spread as the history's)."""
    base = years[0].year
    return [(y.co2 * math.exp(-Z95 * spread * math.sqrt(y.year - base)),
             y.co2 * math.exp(Z95 * spread * math.sqrt(y.year - base))) for y in years]
