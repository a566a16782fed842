"""/api/v1/assets/{enterprise_id}: an enterprise's carbon assets (docs/projects.md). 'assets' reads them in scope
(an enterprise its own, a government user its region's, administrators all); the enterprise (or an administrator)
trades and records its monthly emissions; a government user of its region (or an administrator) allocates
allowances and records verified emissions. 'asset_alarms' (government users, administrators) runs the asset alarm
check now (api/assets/alarms.py). Every write is audited (assets.*)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response

from api.assets import queries
from api.assets.alarms import TZ, check_asset_alarms
from api.assets.output import OutputNotFound, platform_output
from api.assets.position import month_provenance, projection, year_figures
from api.assets.schemas import AllowanceIn, DeadlineIn, EmissionsIn, TransactionIn
from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import caller_with
from api.deps import ClientIP, Conn
from api.registry import hierarchy_queries
from api.table_export import TableFormat, table_response
from carbon_domain.assets import (
    DEFAULT_OFFSET_CAP,
    EntryKind,
    Instrument,
    allowance_by_benchmark,
    compliance_position,
    strategy,
    trading_costs,
)
from carbon_domain.deadlines import deadline_status, region_covers
from carbon_domain.errors import AssetError

router = APIRouter(prefix="/assets", tags=["assets"])

EnterpriseId = Annotated[str, Path(min_length=1, max_length=128)]
Year = Annotated[int, Path(ge=2000, le=2100)]


Reader = Annotated[Principal, Depends(caller_with("assets"))]


def _in_region(region: str | None, regions: tuple[str, ...]) -> bool:
    return region is not None and any(region == r or region.startswith(f"{r}-") for r in regions)


async def _enterprise(conn: psycopg.AsyncConnection, caller: Principal, enterprise_id: str, *,
                      write: str | None = None) -> dict[str, Any]:
    """The enterprise if the caller sees it; `write` 'own' (the enterprise, administrators) or 'region'
    (government users of its region, administrators) also checks that the caller may change it."""
    found = await hierarchy_queries.get(conn, kind="enterprise", key=enterprise_id)
    sees = found is not None and (caller.scope.all or enterprise_id in caller.scope.enterprises
                                  or _in_region(found["region"], caller.scope.regions))
    if found is None or not sees:
        raise HTTPException(404, f"no enterprise {enterprise_id!r} in your scope")
    if write is not None and caller.role != "admin" and caller.role != {"own": "enterprise",
                                                                        "region": "government"}[write]:
        who = "the enterprise itself" if write == "own" else "a government user of its region"
        raise HTTPException(403, f"role {caller.role!r} may read these assets but not change them ({who} does)")
    return found


async def _caller_regions(conn: psycopg.AsyncConnection, caller: Principal) -> tuple[str | None, ...] | None:
    """The regions whose deadlines the caller sees (None: all): a government user's, or its enterprises'."""
    if caller.scope.all:
        return None
    found = [await hierarchy_queries.get(conn, kind="enterprise", key=e) for e in caller.scope.enterprises]
    return tuple(caller.scope.regions) + tuple(e["region"] for e in found if e is not None)


def _applies(row: dict[str, Any], regions: tuple[str | None, ...] | None) -> bool:
    # a region's deadline applies to it and its sub-regions; a government user also sees those of its sub-regions
    return regions is None or any(region_covers(row["region"], r) or region_covers(r, row["region"] or "")
                                  for r in regions if r is not None) or row["region"] is None


def _with_status(row: dict[str, Any]) -> dict[str, Any]:
    state = deadline_status(row["due_on"], datetime.now(TZ).date(), row["remind_days"])
    return {**row, "days_left": state.days_left, "status": state.status}


@router.get("/deadlines")
async def deadlines(caller: Reader, conn: Conn) -> dict[str, Any]:
    """The compliance and trading deadlines that apply to the caller (its region or its enterprises' regions, and
    those of every enterprise), soonest first, each with its days left and status (past, due_soon, upcoming)."""
    regions = await _caller_regions(conn, caller)
    return {"deadlines": [_with_status(row) for row in await queries.deadlines(conn) if _applies(row, regions)]}


def _may_set(caller: Principal, region: str | None) -> None:
    if caller.role == "admin":
        return
    if caller.role != "government":
        raise HTTPException(403, f"role {caller.role!r} may read the deadline calendar but not change it "
                                 "(government users of the region and administrators do)")
    if region is None or not any(region_covers(r, region) for r in caller.scope.regions):
        raise HTTPException(403, f"region {region!r} is not within your region(s) {', '.join(caller.scope.regions)}; "
                                 "deadlines of every region are set by an administrator")


@router.post("/deadlines", status_code=201)
async def add_deadline(body: DeadlineIn, caller: Reader, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Add a deadline: a government user for its region (the default) or a sub-region; an administrator for any
    region, or for every enterprise (no region)."""
    values = body.model_dump()
    if values["region"] is None and caller.role == "government" and caller.scope.regions:
        values["region"] = caller.scope.regions[0]
    _may_set(caller, values["region"])
    async with conn.transaction():
        stored = await queries.add_deadline(conn, values=values, created_by=caller.username)
        await auditlog.record(conn, action="assets.deadline.add", client_ip=ip, principal=caller,
                              target=f"deadline:{stored['deadline_id']}", after=stored)
    return _with_status(stored)


@router.delete("/deadlines/{deadline_id}")
async def delete_deadline(deadline_id: Annotated[int, Path(ge=1)], caller: Reader, conn: Conn,
                          ip: ClientIP) -> dict[str, Any]:
    """Remove a deadline (who may add it may remove it)."""
    async with conn.transaction():
        found = await queries.deadline(conn, deadline_id=deadline_id)
        if found is None:
            raise HTTPException(404, f"no deadline {deadline_id}; GET /api/v1/assets/deadlines lists them")
        _may_set(caller, found["region"])
        await queries.delete_deadline(conn, deadline_id=deadline_id)
        await auditlog.record(conn, action="assets.deadline.delete", client_ip=ip, principal=caller,
                              target=f"deadline:{deadline_id}", before=found)
    return {"deleted": found}


@router.post("/alarms/check")
async def check_alarms(caller: Annotated[Principal, Depends(caller_with("asset_alarms"))], conn: Conn,
                       ip: ClientIP) -> dict[str, Any]:
    """Run the asset alarm check now (it also runs periodically: `carbonflow assets alarms`): raise the projected
    deficit and deadline reminder alarms that hold today and clear those that no longer do; answers the subjects
    left active and cleared."""
    async with conn.transaction():
        check = await check_asset_alarms(conn, datetime.now(TZ).date())
        await auditlog.record(conn, action="assets.alarms.check", client_ip=ip, principal=caller,
                              target="assets:alarms", detail=check.as_dict())
    return check.as_dict()


def _holdings(balance: dict[tuple[Instrument, int], float]) -> list[dict[str, Any]]:
    return [{"instrument": i.value, "vintage": v, "quantity": q} for (i, v), q in sorted(balance.items()) if q]


@router.get("/{enterprise_id}/holdings")
async def holdings(enterprise_id: EnterpriseId, caller: Reader, conn: Conn) -> dict[str, Any]:
    """Balances per instrument and vintage (allowances, CCER, certified reductions)."""
    await _enterprise(conn, caller, enterprise_id)
    return {"enterprise_id": enterprise_id,
            "holdings": _holdings(await queries.balances(conn, enterprise_id=enterprise_id))}


Format = Annotated[TableFormat, Query(description="json, or csv / xlsx for a spreadsheet")]


@router.get("/{enterprise_id}/ledger", response_model=None)
async def ledger(enterprise_id: EnterpriseId, caller: Reader, conn: Conn,
                 format: Format = "json") -> dict[str, Any] | Response:
    """Every ledger entry, oldest first; format=csv or xlsx for a spreadsheet."""
    await _enterprise(conn, caller, enterprise_id)
    entries = await queries.ledger(conn, enterprise_id=enterprise_id)
    if format == "json":
        return {"enterprise_id": enterprise_id, "entries": entries}
    return table_response(entries, queries.LEDGER_COLUMNS, fmt=format, filename=f"ledger-{enterprise_id}")


@router.get("/{enterprise_id}/allowances", response_model=None)
async def allowances(enterprise_id: EnterpriseId, caller: Reader, conn: Conn,
                     format: Format = "json") -> dict[str, Any] | Response:
    """The allocations per year with their method (benchmark x output x adjustment, or entered), newest first;
    format=csv or xlsx for a spreadsheet."""
    await _enterprise(conn, caller, enterprise_id)
    rows = await queries.allowances(conn, enterprise_id=enterprise_id)
    if format == "json":
        return {"enterprise_id": enterprise_id, "allowances": rows}
    return table_response(rows, queries.ALLOWANCE_COLUMNS, fmt=format, filename=f"allowances-{enterprise_id}")


@router.post("/{enterprise_id}/transactions", status_code=201)
async def transact(enterprise_id: EnterpriseId, body: TransactionIn, caller: Reader, conn: Conn,
                   ip: ClientIP) -> dict[str, Any]:
    """Buy, sell, surrender or transfer (to another enterprise of the platform); a balance never goes negative."""
    await _enterprise(conn, caller, enterprise_id, write="own")
    kind = EntryKind.TRANSFER_OUT if body.kind == "transfer" else EntryKind(body.kind)
    if body.kind == "transfer":
        if body.counterparty == enterprise_id:
            raise HTTPException(422, "counterparty is this enterprise; a transfer goes to another enterprise_id")
        if await hierarchy_queries.get(conn, kind="enterprise", key=body.counterparty or "") is None:
            raise HTTPException(422, f"counterparty {body.counterparty!r} is not a registered enterprise_id")
    common: dict[str, Any] = {"instrument": body.instrument, "vintage": body.vintage, "quantity": body.quantity,
              "price": body.price, "actor": caller.username}
    try:
        async with conn.transaction():
            entry = await queries.add_entry(conn, enterprise_id=enterprise_id, kind=kind,
                                            counterparty=body.counterparty, compliance_year=body.compliance_year,
                                            **common)
            await auditlog.record(conn, action=f"assets.{body.kind}", client_ip=ip, principal=caller,
                                  target=f"enterprise:{enterprise_id}", after=entry)
            if body.kind == "transfer":
                assert body.counterparty is not None
                received = await queries.add_entry(conn, enterprise_id=body.counterparty,
                                                   kind=EntryKind.TRANSFER_IN, counterparty=enterprise_id,
                                                   reference=f"entry:{entry['entry_id']}", **common)
                await auditlog.record(conn, action="assets.transfer_in", client_ip=ip, principal=caller,
                                      target=f"enterprise:{body.counterparty}", after=received)
    except AssetError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"entry": entry, "holdings": _holdings(await queries.balances(conn, enterprise_id=enterprise_id))}


@router.put("/{enterprise_id}/allowances/{year}", status_code=201)
async def allocate(enterprise_id: EnterpriseId, year: Year, body: AllowanceIn, caller: Reader, conn: Conn,
                   ip: ClientIP) -> dict[str, Any]:
    """Allocate a year's allowances (by benchmark x output x adjustment, or entered) into the holdings; a year
    is allocated once (correct it with ledger entries). A benchmark allocation without output takes the year's
    output from the platform's data (monitoring's main product, else the sites' production counters, of
    `product` when given) and names the source (output_source, output_basis)."""
    await _enterprise(conn, caller, enterprise_id, write="region")
    output, source, basis = body.output, None, None
    if body.method == "benchmark":
        assert body.benchmark is not None
        if output is None:
            try:
                found = await platform_output(conn, enterprise_id=enterprise_id, year=year, product=body.product)
            except OutputNotFound as exc:
                raise HTTPException(422, str(exc)) from exc
            output, source, basis = found.quantity, found.source, found.basis
        else:
            source, basis = "entered", f"given by {caller.username}"
        amount = allowance_by_benchmark(body.benchmark, output, body.adjustment)
    else:
        assert body.amount is not None
        amount = body.amount
    async with conn.transaction():
        if not await queries.put_allowance(conn, enterprise_id=enterprise_id, year=year, method=body.method,
                                           benchmark=body.benchmark, output=output, output_source=source,
                                           output_basis=basis,
                                           adjustment=body.adjustment if body.method == "benchmark" else None,
                                           amount=amount, allocated_by=caller.username):
            raise HTTPException(409, f"{year} allowances of {enterprise_id!r} are allocated already")
        if amount > 0:
            await queries.add_entry(conn, enterprise_id=enterprise_id, kind=EntryKind.ALLOCATE,
                                    instrument=Instrument.ALLOWANCE, vintage=year, quantity=amount,
                                    actor=caller.username, reference=f"allocation:{year}")
        allocated = await queries.allowance(conn, enterprise_id=enterprise_id, year=year)
        await auditlog.record(conn, action="assets.allocate", client_ip=ip, principal=caller,
                              target=f"enterprise:{enterprise_id}:{year}", after=allocated)
    assert allocated is not None
    return allocated


@router.put("/{enterprise_id}/emissions/{year}")
async def record_emissions(enterprise_id: EnterpriseId, year: Year, body: EmissionsIn, caller: Reader, conn: Conn,
                           ip: ClientIP,
                           month: Annotated[int | None, Query(ge=1, le=12,
                                                              description="omit for the verified year")] = None,
                           ) -> dict[str, Any]:
    """Record a month's emissions (the enterprise) or the verified emissions of the year (a government user of
    its region); administrators both."""
    await _enterprise(conn, caller, enterprise_id, write="own" if month is not None else "region")
    async with conn.transaction():
        before = await queries.put_emissions(conn, enterprise_id=enterprise_id, year=year, month=month,
                                             tco2=body.tco2, updated_by=caller.username)
        await auditlog.record(conn, action="assets.emissions", client_ip=ip, principal=caller,
                              target=f"enterprise:{enterprise_id}:{year}" + (f"-{month:02d}" if month else ""),
                              before=None if before is None else {"tco2": before}, after={"tco2": body.tco2})
    return {"enterprise_id": enterprise_id, "year": year, "month": month, "tco2": body.tco2}


def _scenarios(items: list[str]) -> dict[str, float]:
    scenarios: dict[str, float] = {}
    for item in items:
        name, _, price = item.partition(":")
        try:
            scenarios[name.strip()] = float(price)
        except ValueError:
            raise HTTPException(422, f"scenario {item!r} is not name:price (e.g. high:120)") from None
        if not name.strip():
            raise HTTPException(422, f"scenario {item!r} has no name (e.g. high:120)")
    return scenarios


@router.get("/{enterprise_id}/compliance/{year}")
async def compliance(
    enterprise_id: EnterpriseId, year: Year, caller: Reader, conn: Conn,
    offset_cap: Annotated[float, Query(ge=0, le=1, description="share of emissions offsets may cover")]
    = DEFAULT_OFFSET_CAP,
    scenario: Annotated[list[str] | None, Query(description="price scenarios, name:price, e.g. low:60")] = None,
    current_price: Annotated[float | None, Query(ge=0)] = None,
    months_to_deadline: Annotated[int, Query(ge=0, le=36)] = 12,
) -> dict[str, Any]:
    """The compliance position of a year (verified emissions against allowances and usable offsets, counting what
    is held and what was already surrendered for the year), the year-end projection from the monthly emissions
    (each month entered, else from monitoring, else from the pipeline, its source named in projection.months),
    and with price scenarios the trading cost and a strategy suggestion."""
    await _enterprise(conn, caller, enterprise_id)
    figures = await year_figures(conn, enterprise_id=enterprise_id, year=year)
    verified, allowances, offsets = figures.verified_tco2, figures.allowances, figures.offsets
    answer: dict[str, Any] = {"enterprise_id": enterprise_id, "year": year, "allowances": allowances,
                              "offsets_held": offsets, "offset_cap": offset_cap, "position": None,
                              "projection": None}
    try:
        if verified is not None:
            got = compliance_position(verified_tco2=verified, allowances=allowances, offsets_held=offsets,
                                      offset_cap=offset_cap)
            answer["position"] = {"verified_tco2": verified, "usable_offsets": got.usable_offsets,
                                  "position": got.position, "status": got.status}
        projected = projection(figures, offset_cap=offset_cap)
        if projected is not None:
            answer["projection"] = {"recorded_months": list(projected.recorded_months),
                                    "recorded_tco2": projected.recorded_tco2,
                                    "projected_tco2": projected.projected_tco2, "gap": projected.gap,
                                    "deficit_projected": projected.deficit_projected,
                                    "months": month_provenance(figures)}
        prices = _scenarios(scenario or [])
        gap = answer["position"]["position"] if answer["position"] else (
            answer["projection"]["gap"] if answer["projection"] else None)
        if prices and gap is not None:
            answer["trading_costs"] = [vars(c) for c in trading_costs(gap, prices)]
            if current_price is not None:
                emitted = verified if verified is not None else answer["projection"]["projected_tco2"]
                answer["strategy"] = vars(strategy(gap, projected_tco2=emitted, current_price=current_price,
                                                   scenarios=prices, months_to_deadline=months_to_deadline))
    except AssetError as exc:
        raise HTTPException(422, str(exc)) from exc
    return answer
