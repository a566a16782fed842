"""Names of regions and industry classes in the caller's language: the API stores codes with a Chinese name and an
English one, and answers `name` in `lang` (zh-CN by default, en on request) beside the code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from fastapi import Query

from carbon_domain.monitoring import Industry, IndustryTable, Region, RegionTree

__all__ = ["Lang", "LangQuery", "industry_name", "name_rows", "region_name"]

Lang = Literal["zh-CN", "en"]
LangQuery = Annotated[Lang, Query(description="language of region and industry names: zh-CN or en")]


def region_name(region: Region | None, lang: Lang, fallback: str = "") -> str:
    if region is None:
        return fallback
    return (region.name_en or region.name) if lang == "en" else region.name


def industry_name(industry: Industry | None, lang: Lang, fallback: str = "") -> str:
    if industry is None:
        return fallback
    return (industry.name_en or industry.name) if lang == "en" else industry.name


def name_rows(rows: Iterable[dict[str, Any]], lang: Lang, *, regions: RegionTree | None = None,
              industries: IndustryTable | None = None) -> list[dict[str, Any]]:
    """Rows with `region_name` / `industry_name` added from their `region_code` / `industry_code` in `lang`."""
    named = []
    for row in rows:
        extra: dict[str, Any] = {}
        if regions is not None and "region_code" in row:
            extra["region_name"] = region_name(regions.get(row["region_code"]), lang, row["region_code"])
        if industries is not None and "industry_code" in row:
            code = row["industry_code"]
            found = industries.get(code)
            extra["industry_name"] = industry_name(found, lang, code)
            extra["high_energy"] = found.high_energy if found is not None else None
        named.append({**row, **extra})
    return named
