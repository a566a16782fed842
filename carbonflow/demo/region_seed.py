"""`carbonflow seed region`: a deterministic synthetic prefecture for government monitoring (docs/monitoring.md).

Three counties of the demo prefecture Huzhou (330502 Wuxing, 330521 Deqing, 330522 Changxing), 420 enterprises
across 22 industry groups (all eight high-energy industries among them), 40 public institutions, and 36 months
(2023-2025) of energy figures and value added with seasonality, a Spring Festival dip, growth, and a few
planted anomalies: a jump month, a missing month and an intensity outlier per handful of units. About one
enterprise in six, and the steelworks, has rooftop PV (own generation, a share of its electricity with a summer
peak), which its 碳效码 counts as avoided CO2. About one enterprise in eight of the electricity-heavy
industries that also burn gas or oil (131, 292, 321, 325) reports its electricity only, never its fuels, so that
the electricity -> fuel models have units to estimate (docs/monitoring.md, "Estimated figures"; the demo runs the
estimate once it has fitted the models). Seeding also computes the 碳效码 of every unit for the three years. The live demo
steelworks (enterprise `demo-steel`) is one of the units, linked to its metered enterprise when registered.
Everything is marked synthetic (`monitoring_units.synthetic`, names starting "Synthetic"). The same seed always
gives the same units and figures, and seeding twice stores nothing new.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

import psycopg

from carbon_domain.monitoring import FigureCalculator, FigureLine, credit_code_problem

__all__ = ["COUNTIES", "ELECTRICITY_ONLY_INDUSTRIES", "FUELS", "YEARS", "SyntheticPrefecture", "SyntheticUnit", "generate", "seed_region"]

COUNTIES = ("330502", "330521", "330522")
FUELS = ("coal", "oil", "natural_gas")
YEARS = (2023, 2024, 2025)
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# industry group -> (units, energy mix as tce shares per energy type, tce per 10^4 yuan of value added)
_ENTERPRISES: dict[str, tuple[int, dict[str, float], float]] = {
    "441": (6, {"coal": 0.93, "electricity": 0.05, "oil": 0.02}, 4.0),
    "251": (4, {"oil": 0.5, "natural_gas": 0.3, "electricity": 0.2}, 1.6),
    "261": (14, {"coal": 0.45, "natural_gas": 0.25, "electricity": 0.3}, 1.2),
    "262": (6, {"coal": 0.6, "natural_gas": 0.2, "electricity": 0.2}, 1.4),
    "265": (10, {"natural_gas": 0.4, "electricity": 0.45, "heat": 0.15}, 0.8),
    "301": (10, {"coal": 0.8, "electricity": 0.2}, 2.5),
    "303": (14, {"coal": 0.6, "electricity": 0.4}, 1.0),
    "304": (6, {"natural_gas": 0.7, "electricity": 0.3}, 1.5),
    "311": (3, {"coal": 0.85, "electricity": 0.15}, 3.0),
    "312": (4, {"coal": 0.55, "electricity": 0.4, "natural_gas": 0.05}, 2.0),
    "313": (12, {"electricity": 0.5, "natural_gas": 0.45, "oil": 0.05}, 0.6),
    "321": (6, {"electricity": 0.75, "natural_gas": 0.2, "oil": 0.05}, 1.8),
    "325": (12, {"electricity": 0.6, "natural_gas": 0.4}, 0.4),
    "221": (4, {"coal": 0.5, "heat": 0.3, "electricity": 0.2}, 1.5),
    "222": (14, {"heat": 0.45, "coal": 0.3, "electricity": 0.25}, 1.1),
    "223": (20, {"electricity": 0.7, "heat": 0.3}, 0.3),
    "561": (3, {"oil": 0.97, "electricity": 0.03}, 2.2),
    "131": (30, {"electricity": 0.7, "natural_gas": 0.3}, 0.15),
    "171": (60, {"electricity": 0.55, "heat": 0.35, "natural_gas": 0.1}, 0.35),
    "292": (50, {"electricity": 0.85, "natural_gas": 0.15}, 0.2),
    "252": (12, {"coal": 0.9, "electricity": 0.1}, 2.0),
    "443": (60, {"coal": 0.6, "natural_gas": 0.35, "electricity": 0.05}, 3.5),
}
_PUBLIC: dict[str, tuple[int, dict[str, float]]] = {
    "832": (18, {"electricity": 0.7, "natural_gas": 0.3}),
    "834": (4, {"electricity": 0.65, "natural_gas": 0.2, "heat": 0.15}),
    "841": (8, {"electricity": 0.6, "natural_gas": 0.3, "heat": 0.1}),
    "922": (10, {"electricity": 0.8, "natural_gas": 0.2}),
}
# industries whose units run mostly on electricity and burn some gas or oil: one unit in eight of them reports
# electricity only (its fuels' CO2 is what the fuel models estimate; the others' figures fit those models).
# Electricity-heavy, so that the units' reported intensity stays within their industry's range
ELECTRICITY_ONLY_INDUSTRIES = ("131", "292", "321", "325")
_ELECTRICITY_ONLY_SHARE = 1 / 8
# tce per unit of each energy type's storage unit (GB/T 2589, METHODS.md section 10): to turn tce into quantities
_TCE_PER_UNIT = {"electricity": 0.1229, "coal": 0.7143, "oil": 1.4571, "natural_gas": 12.143, "heat": 0.03412}
_STORAGE_UNIT = {"electricity": "MWh", "coal": "t", "oil": "t", "natural_gas": "1e4Nm3", "heat": "GJ"}


@dataclass(frozen=True)
class SyntheticUnit:
    credit_code: str
    name: str
    kind: str
    region_code: str
    industry_code: str
    above_scale: bool
    public: bool
    enterprise_id: str | None = None


@dataclass
class SyntheticPrefecture:
    units: list[SyntheticUnit] = field(default_factory=list)
    lines: list[FigureLine] = field(default_factory=list)
    anomalies: dict[str, list[str]] = field(default_factory=dict)  # rule -> credit codes planted with it
    electricity_only: list[str] = field(default_factory=list)  # credit codes reporting electricity, no fuel


def _credit_code(rng: random.Random, authority: str, region: str) -> str:
    body = authority + region + "".join(rng.choice(_CHARS) for _ in range(9))
    return next(body + c for c in _CHARS if credit_code_problem(body + c) is None)


def _season(energy: str, month: int, public: bool) -> float:
    if energy == "heat":
        return 1.0 + 0.45 * math.cos(2 * math.pi * (month - 1) / 12)  # winter peak
    if energy == "electricity":
        return 1.0 + 0.12 * math.cos(2 * math.pi * (month - 1) / 6)  # January and July peaks
    spring_festival = 0.75 if month == 2 and not public else 1.0
    return spring_festival * (1.0 + 0.1 * math.cos(2 * math.pi * (month - 1) / 12))


def generate(seed: int = 2026) -> SyntheticPrefecture:
    """The synthetic prefecture for `seed`: units and figure lines (deterministic)."""
    rng = random.Random(seed)
    result = SyntheticPrefecture(anomalies={"jump": [], "missing_month": [], "intensity_outlier": []})
    plans: list[tuple[SyntheticUnit, dict[str, float], float, float, float]] = []
    number = 0
    for industry, (count, mix, tce_per_va) in _ENTERPRISES.items():
        for _ in range(count):
            number += 1
            county = COUNTIES[number % 3]
            unit = SyntheticUnit(_credit_code(rng, "91", county), f"Synthetic enterprise {number:03d} ({industry})",
                                 "enterprise", county, industry, rng.random() < 0.8, False)
            efficiency = rng.uniform(0.8, 1.25)  # units of one class differ in how much energy a yuan takes
            plans.append((unit, mix, rng.lognormvariate(math.log(300), 0.9), tce_per_va * efficiency,
                          rng.uniform(-0.03, 0.06)))
    steelworks = SyntheticUnit(_credit_code(rng, "91", "330522"), "Demo Steel Co. (演示钢铁, the live steelworks)",
                               "enterprise", "330522", "312", True, False, enterprise_id="demo-steel")
    plans.append((steelworks, _ENTERPRISES["312"][1], 9000.0, 2.0, 0.02))
    for industry, (count, mix) in _PUBLIC.items():
        for _ in range(count):
            number += 1
            county = COUNTIES[number % 3]
            unit = SyntheticUnit(_credit_code(rng, "12", county), f"Synthetic public institution {number:03d} "
                                 f"({industry})", "public_institution", county, industry, False, rng.random() < 0.9)
            plans.append((unit, mix, rng.lognormvariate(math.log(40), 0.5), 0.0, -rng.uniform(0.02, 0.07)))
    enterprises = [p for p in plans if p[0].kind == "enterprise" and p[0] is not steelworks]
    jumps = {p[0].credit_code for p in rng.sample(enterprises, 8)}
    missing = {p[0].credit_code for p in rng.sample(enterprises, 6)}
    outliers = {p[0].credit_code for p in rng.sample(enterprises, 5)}
    electricity_only = _electricity_only(enterprises, jumps | missing | outliers, seed)
    line = 0
    for unit, mix, monthly_tce, tce_per_va, growth in plans:
        result.units.append(unit)
        gap = (rng.choice(YEARS[1:]), rng.randint(3, 11)) if unit.credit_code in missing else None
        jump = (YEARS[-1], rng.randint(2, 11)) if unit.credit_code in jumps else None
        for year in YEARS:
            for month in range(1, 13):
                if gap == (year, month):
                    continue
                level = monthly_tce * (1 + growth) ** (year - YEARS[0]) * rng.uniform(0.95, 1.05)
                if jump == (year, month):
                    level *= 3.0
                total_tce = 0.0
                for energy, share in mix.items():
                    tce = level * share * _season(energy, month, unit.kind == "public_institution")
                    total_tce += tce  # value added follows what the unit uses, reported or not
                    if energy in FUELS and unit.credit_code in electricity_only:
                        continue
                    line += 1
                    result.lines.append(FigureLine(line, unit.credit_code, date(year, month, 1), energy,
                                                   round(tce / _TCE_PER_UNIT[energy], 3), _STORAGE_UNIT[energy]))
                if unit.kind == "enterprise":
                    value_added = total_tce / tce_per_va * (0.1 if unit.credit_code in outliers else 1.0)
                    line += 1
                    result.lines.append(FigureLine(line, unit.credit_code, date(year, month, 1), "value_added",
                                                   round(value_added, 2), "1e4CNY"))
    _own_generation(result, seed)
    result.anomalies = {"jump": sorted(jumps), "missing_month": sorted(missing), "intensity_outlier": sorted(outliers)}
    result.electricity_only = sorted(electricity_only)
    return result


def _electricity_only(enterprises: list[tuple[SyntheticUnit, dict[str, float], float, float, float]],
                      planted: set[str], seed: int) -> set[str]:
    """The enterprises that report electricity but no fuel: a share of each electricity-heavy industry, none with
    a planted anomaly. Their own random stream, so that the other figures stay those of earlier seeds."""
    rng = random.Random(seed * 11 + 5)
    chosen: set[str] = set()
    for industry in ELECTRICITY_ONLY_INDUSTRIES:
        eligible = sorted(u.credit_code for u, *_ in enterprises
                          if u.industry_code == industry and u.credit_code not in planted)
        chosen.update(rng.sample(eligible, max(1, round(len(eligible) * _ELECTRICITY_ONLY_SHARE))))
    return chosen


def _own_generation(result: SyntheticPrefecture, seed: int) -> None:
    """Rooftop PV for some enterprises: generation = a share of the month's electricity use, peaking in summer.
    Its own random stream, so that the other figures stay those of earlier seeds."""
    rng = random.Random(seed * 7 + 1)
    solar = {u.credit_code: rng.uniform(0.08, 0.3) for u in result.units
             if u.kind == "enterprise" and (u.enterprise_id or rng.random() < 1 / 6)}
    number = result.lines[-1].line if result.lines else 0
    for figure in [f for f in result.lines if f.item == "electricity" and f.credit_code in solar]:
        season = 1.0 + 0.35 * math.cos(2 * math.pi * (figure.month.month - 7) / 12)
        number += 1
        result.lines.append(FigureLine(number, figure.credit_code, figure.month, "own_generation",
                                       round(figure.quantity * solar[figure.credit_code] * season, 3), "MWh"))


async def seed_region(url: str, *, seed: int = 2026) -> dict[str, int]:
    """Write the synthetic prefecture into the database at `url` (monitoring tables migrated); idempotent."""
    from api.accounting.queries import load_library
    from api.monitoring import queries

    prefecture = generate(seed)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        library = await load_library(conn)
        calculator = FigureCalculator(library)
        async with conn.transaction():
            known = await conn.execute("SELECT enterprise_id FROM enterprises WHERE enterprise_id = 'demo-steel'")
            linked = await known.fetchone() is not None
            ids: dict[str, int] = {}
            for unit in prefecture.units:
                cur = await conn.execute(
                    "INSERT INTO monitoring_units (credit_code, name, kind, region_code, industry_code, above_scale,"
                    " public, enterprise_id, synthetic) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true)"
                    " ON CONFLICT (credit_code) DO UPDATE SET name = EXCLUDED.name RETURNING unit_id",
                    (unit.credit_code, unit.name, unit.kind, unit.region_code, unit.industry_code, unit.above_scale,
                     unit.public, unit.enterprise_id if linked else None))
                row = await cur.fetchone()
                assert row is not None
                ids[unit.credit_code] = int(row[0])
            figures = []
            for item in prefecture.lines:
                tco2 = tce = None
                factor_ids: tuple[str, ...] = ()
                if item.item in _TCE_PER_UNIT:
                    computed = calculator.energy(item.item, item.quantity, item.month)
                    tco2, tce, factor_ids = computed.tco2, computed.tce, computed.factor_ids
                figures.append((ids[item.credit_code], item.month, item.item, item.quantity, item.unit, tco2, tce,
                                factor_ids))
            batch = await queries.create_batch(conn, source="file", origin=f"carbonflow seed region (seed {seed})",
                                               sha256=None, by="carbonflow seed region")
            stored = await queries.store_figures(conn, figures=figures, source="file", batch_id=batch,
                                                 by="carbonflow seed region")
            await queries.finish_batch(conn, batch_id=batch, read=len(figures), stored=stored,
                                       same=len(figures) - stored, refused=0)
        codes = await _seed_codes(conn)
    return {"units": len(prefecture.units), "figures": len(figures), "stored": stored, "coded": codes}


async def _seed_codes(conn: psycopg.AsyncConnection) -> int:
    """The 碳效码 of every unit for the seeded years (a recorded run per year unless nothing changed); returns how
    many units got a code in the last year."""
    from api.efficiency_code import compute
    from api.efficiency_code.queries import active_config

    config = await active_config(conn)
    coded = 0
    for year in YEARS:
        outcome = await compute.compute_period(conn, period=compute.parse_period(str(year)), config=config,
                                               by="carbonflow seed region", only_changed=True)
        coded = outcome.coded
    return coded
