"""International comparison from world_co2.csv, read in place (never copied into the repository).

The file is Our World in Data's extract of the Global Carbon Budget 2024 (CC BY 4.0; its README next to it
gives the citation). It lives in the shared data folder beside the repository, ``../shared/data`` from the
repository root; CARBONFLOW_WORLD_CO2_CSV names another place. Without it the endpoint answers 404 naming the path. Credit line to show with it:
"Source: Our World in Data based on the Global Carbon Budget (2024), CC BY 4.0".
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CREDIT", "WorldData", "WorldDataMissing", "comparison", "data_path", "load"]

CREDIT = "Source: Our World in Data based on the Global Carbon Budget (2024), CC BY 4.0"
_ENV = "CARBONFLOW_WORLD_CO2_CSV"
_REPO = Path(__file__).resolve().parents[2]


class WorldDataMissing(LookupError):
    """world_co2.csv is not where it is looked for; the message names the place and how to point elsewhere."""


@dataclass(frozen=True)
class WorldData:
    path: str
    # (iso_code, year) -> (country, co2_mt, share_pct); missing values are None
    rows: dict[tuple[str, int], tuple[str, float | None, float | None]]
    years: tuple[int, ...]


def data_path() -> Path:
    """CARBONFLOW_WORLD_CO2_CSV, else ../shared/data/world_co2.csv from the repository root."""
    configured = os.environ.get(_ENV)
    return Path(configured) if configured else _REPO.parent / "shared" / "data" / "world_co2.csv"


def load(path: Path) -> WorldData:
    try:
        stat = path.stat()
    except OSError as exc:
        raise WorldDataMissing(f"world_co2.csv not found at {path}: the international comparison needs Our World in "
                               f"Data's extract (CC BY 4.0) there, or set {_ENV} to its path") from exc
    return _read(str(path), stat.st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _read(path: str, _mtime: int) -> WorldData:
    rows: dict[tuple[str, int], tuple[str, float | None, float | None]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            rows[record["iso_code"], int(record["year"])] = (
                record["country"], _number(record["co2_mt"]), _number(record["share_global_co2_pct"]))
    return WorldData(path, rows, tuple(sorted({year for _, year in rows})))


def _number(text: str) -> float | None:
    return float(text) if text else None


def comparison(data: WorldData, *, countries: Sequence[str], start: int, end: int, top: int) -> dict[str, Any]:
    """The countries' annual CO2 and share of the world in [start, end], and the latest year's top emitters."""
    years = [y for y in data.years if start <= y <= end]
    unknown = sorted({c for c in countries if (c, data.years[-1]) not in data.rows})
    latest = years[-1] if years else data.years[-1]
    ranked = sorted(((values[1], iso) for (iso, year), values in data.rows.items()
                     if year == latest and iso != "OWID_WRL" and values[1] is not None), reverse=True)[:top]
    top_codes = [iso for _, iso in ranked]

    def series(iso: str) -> dict[str, Any]:
        return {"iso_code": iso, "country": data.rows[iso, data.years[-1]][0],
                "co2_mt": [data.rows[iso, y][1] for y in years],
                "share_pct": [data.rows[iso, y][2] for y in years]}

    return {"years": years, "countries": [series(c) for c in countries if c not in unknown],
            "unknown": unknown, "world": series("OWID_WRL")["co2_mt"],
            "top_year": latest, "top": [series(c) for c in top_codes], "credit": CREDIT, "licence": "CC BY 4.0"}
