"""The output a benchmark allocation multiplies (allowances = benchmark x output x adjustment), taken from the
platform's own data when the caller gives none: the main-product output (主要产品产量) the enterprise's
monitoring units reported for the year, else the production counters of its sites as the pipeline derived
them. Each answer names its source and what was summed; OutputNotFound says what to give instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from api.emissions.scope_totals import enterprise_production
from api.monitoring.queries import enterprise_main_product

__all__ = ["Output", "OutputNotFound", "platform_output"]

_TZ = ZoneInfo("Asia/Shanghai")  # a compliance year is a calendar year of China Standard Time


@dataclass(frozen=True)
class Output:
    quantity: float
    unit: str
    source: str  # 'monitoring' or 'pipeline'
    basis: str  # what was summed, for the allocation's record


class OutputNotFound(LookupError):
    """The platform has no single output figure of the year; the message says what to give."""


async def platform_output(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int,
                          product: str | None = None) -> Output:
    """The year's output from monitoring's main product, else the pipeline's production counters (of `product`
    when given, else of the one product counted)."""
    reported = await enterprise_main_product(conn, enterprise_id=enterprise_id, year=year)
    if len(reported) == 1 and product is None:
        row = reported[0]
        return Output(row["quantity"], row["unit"], "monitoring",
                      f"main_product of {row['units']} monitoring unit(s), {row['months']} month(s) of {year}: "
                      f"{row['quantity']:.6g} {row['unit']}")
    if len(reported) > 1 and product is None:
        units = ", ".join(f"{r['quantity']:.6g} {r['unit']}" for r in reported)
        raise OutputNotFound(f"monitoring reports the main product of {year} in several units ({units}); give "
                             "output (in the benchmark's unit)")
    made = await enterprise_production(conn, enterprise_id=enterprise_id, start=datetime(year, 1, 1, tzinfo=_TZ),
                                       end=datetime(year + 1, 1, 1, tzinfo=_TZ))
    counted = [m for m in made if m["amount"] > 0 and (product is None or m["product"] == product)]
    if len(counted) == 1:
        row = counted[0]
        return Output(row["amount"], row["unit"], "pipeline",
                      f"production:{row['product']} counters ({row['counters']}) of sites {', '.join(row['sites'])}"
                      f" in {year}: {row['amount']:.6g} {row['unit']}")
    if not counted:
        what = f"production of {product!r}" if product else "main-product output or production"
        raise OutputNotFound(f"the platform has no {what} of {enterprise_id!r} in {year} (monitoring main_product "
                             "or production counters); give output")
    names = ", ".join(sorted({m["product"] for m in counted}))
    raise OutputNotFound(f"the sites of {enterprise_id!r} count several products in {year} ({names}); give product "
                         "(the one the benchmark is per unit of) or output")
