"""GET /api/v1/overview: one site today, for an energy manager: live power, CO2 by process and by source,
production, intensity against the site's benchmark and active alarms. 404 outside the caller's scope."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from api.accounting import queries as accounting_queries
from api.alarms import queries as alarm_queries
from api.auth.deps import EmissionsReader, VisibleSites
from api.deps import Conn
from api.emissions import figures, scope_totals
from api.registry import queries as registry_queries
from api.telemetry import figures as telemetry_figures
from api.telemetry import queries
from api.telemetry.routers.live import LIVE_WITHIN

router = APIRouter(tags=["emissions"])


class PowerPoint(BaseModel):
    device: str
    point: str
    process: str | None
    value_kw: float | None
    quality: str
    ts: datetime | None
    counted: bool = Field(description="false for a bad or missing value, which is left out of the total")


class Power(BaseModel):
    total_kw: float | None = Field(description="sum of the newest good or uncertain readings of the site's power "
                                               "gauges (W, kW, MW) seen in the last 10 minutes; null when none")
    points_counted: int
    as_of: datetime | None = Field(description="newest reading in the total")
    points: list[PowerPoint]


class SourceCO2(BaseModel):
    source: str = Field(description="accounting activity: electricity, natural_gas, heat, ...")
    tco2: float
    activity_amount: float
    activity_unit: str
    intervals: int
    quality: str


class ProcessCO2(BaseModel):
    process: str | None = Field(description="process (工序) of the emitting device; null when it has none")
    tco2: float
    intervals: int


class CO2(BaseModel):
    total_tco2: float
    by_source: list[SourceCO2]
    by_process: list[ProcessCO2]
    factor_versions: list[str] = Field(description="factor rows used (factor_id), for traceability")


class Production(BaseModel):
    product: str = Field(description="the X of the counters' production:X activity")
    amount: float = Field(description="production of the counters in the day, as the stream job derived it")
    unit: str
    counters: int


class Benchmark(BaseModel):
    tco2_per_t: float
    source: str
    updated_at: datetime
    updated_by: str | None


class Intensity(BaseModel):
    product: str
    production_t: float | None
    value: float | None = Field(description="the day's total tCO2 per tonne of product; null without production")
    unit: str
    benchmark: Benchmark | None
    vs_benchmark_pct: float | None = Field(description="(value / benchmark - 1) x 100: above 0 is worse")
    status: str = Field(description="above_benchmark, at_or_below_benchmark, no_benchmark or no_production")


class Overview(BaseModel):
    site: str
    site_name: str
    enterprise_name: str
    timezone: str
    day: date
    start: datetime
    end: datetime
    generated_at: datetime
    power: Power | None = Field(description="null for callers without the 'live' permission")
    co2: CO2
    production: list[Production]
    intensity: Intensity
    alarms: list[dict[str, Any]] = Field(description="active alarms of the site's devices, newest first, as the "
                                                     "alarms table holds them (rule, device_id, point, severity, "
                                                     "detail, raised_at, ...); empty without an alarms table")


@router.get("/overview", response_model=Overview, responses={404: {"description": "unknown or hidden site"},
                                                             422: {"description": "bad time zone or day"}})
async def overview(
    request: Request, caller: EmissionsReader, conn: Conn, sites: VisibleSites,
    site: Annotated[str, Query(max_length=128, description="site_id, see /api/v1/sites")],
    tz: Annotated[str, Query(max_length=64, description="IANA time zone that defines the day")] = telemetry_figures.DEFAULT_TZ,
    day: Annotated[date | None, Query(description="YYYY-MM-DD; default today in `tz`")] = None,
    product: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9_]{0,63}$",
                                  description="product of the intensity")] = figures.PRIMARY_PRODUCT,
) -> dict[str, Any]:
    """The site's day at a glance. CO2 counts emission intervals that end in the day; production is the
    increase of the `production:<product>` counters in the day; intensity is total tCO2 per tonne."""
    try:
        zone = telemetry_figures.zone(tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    # outside the caller's scope: the same answer as an unknown site, so that hidden sites stay hidden
    if sites is not None and site not in sites:
        raise HTTPException(404, f"no site {site!r}; see /api/v1/sites")
    day = day or datetime.now(zone).date()
    with_power = "live" in caller.permissions
    # the figures depend on the site and these parameters only, so callers who may see the site share them
    # for a moment (CARBONFLOW_DASHBOARD_CACHE_S): a plant's overview is open on many screens at once.
    # Active alarms are read at every request: the stream job raises them, and they should show at once.
    figures_now = await request.app.state.dashboard_cache.get(
        ("overview", site, tz, day, product, with_power),
        lambda: _overview(conn, site=site, tz=tz, zone=zone, day=day, product=product, with_power=with_power))
    if figures_now is None:
        raise HTTPException(404, f"no site {site!r}; see /api/v1/sites")
    answer = figures_now.model_copy(update={"alarms": await alarm_queries.active_alarms(conn, site=site)})
    return Response(answer.model_dump_json(), media_type="application/json")  # type: ignore[return-value]


async def _overview(conn: Conn, *, site: str, tz: str, zone: ZoneInfo, day: date, product: str,
                    with_power: bool) -> Overview | None:
    """The overview of a site without its alarms (None for an unknown site)."""
    info = next(iter(await registry_queries.list_sites(conn, sites=[site])), None)
    if info is None:
        return None
    now = datetime.now(zone)
    start, end = figures.day_window(day, zone)
    co2 = await scope_totals.site_co2(conn, site=site, start=start, end=end)
    production = await scope_totals.site_production(conn, site=site, start=start, end=end)
    tonnes = figures.product_tonnes(production, product)
    benchmarks = await accounting_queries.list_benchmarks(conn, sites=[site], site=site)
    benchmark = next((b for b in benchmarks if b["product"] == product), None)
    ratio = figures.intensity(co2["total_tco2"], tonnes, benchmark["tco2_per_t"] if benchmark else None)
    power = None
    if with_power:
        values = await queries.latest_point_values(conn, within=LIVE_WITHIN, sites=[site], site=site)
        power = telemetry_figures.power_summary(values)
    return Overview.model_validate({
        "site": site, "site_name": info["name"], "enterprise_name": info["enterprise_name"], "timezone": tz,
        "day": day, "start": start, "end": end, "generated_at": now, "power": power, "co2": co2,
        "production": production,
        "intensity": {**ratio, "product": product, "production_t": tonnes, "benchmark": benchmark},
        "alarms": [],
    })
