"""Storage of the carbon-assets service (migration 122): allowance allocations, the append-only ledger (whose sums
are the holdings) and the emissions a compliance position is computed from. Keyword-only functions on a
connection. `add_entry` is the one way anything enters the ledger (the projects service issues certified
reductions through it): under a per-enterprise lock it checks with `carbon_domain.assets.apply_entries` that no
balance goes negative, then appends."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from carbon_domain.assets import Balance, Entry, EntryKind, Instrument, apply_entries

__all__ = [
    "ALLOWANCE_COLUMNS",
    "LEDGER_COLUMNS",
    "DEADLINE_COLUMNS",
    "add_deadline",
    "add_entry",
    "allowance_holders",
    "deadline",
    "deadlines",
    "delete_deadline",
    "allowance",
    "allowances",
    "balances",
    "emissions",
    "ledger",
    "put_allowance",
    "put_emissions",
]

LEDGER_COLUMNS = ("entry_id", "enterprise_id", "at", "kind", "instrument", "vintage", "quantity", "price",
                  "counterparty", "compliance_year", "reference", "actor")
ALLOWANCE_COLUMNS = ("enterprise_id", "year", "method", "benchmark", "output", "output_source", "output_basis",
                     "adjustment", "amount", "allocated_at", "allocated_by")
DEADLINE_COLUMNS = ("deadline_id", "region", "kind", "title", "due_on", "remind_days", "note", "created_at", "created_by")
_SIGNED = ("CASE WHEN kind IN ('allocate', 'issue', 'buy', 'transfer_in') THEN quantity ELSE -quantity END")


async def _lock(conn: psycopg.AsyncConnection, enterprise_id: str) -> None:
    # two writers of one enterprise's ledger are serialised, so the balance checked is the balance written against
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('asset_ledger:' || %s, 0))", (enterprise_id,))


async def balances(conn: psycopg.AsyncConnection, *, enterprise_id: str) -> Balance:
    cur = await conn.execute(f"SELECT instrument, vintage, sum({_SIGNED}) FROM asset_ledger WHERE enterprise_id = %s"
                             " GROUP BY instrument, vintage ORDER BY instrument, vintage", (enterprise_id,))
    return {(Instrument(i), int(v)): float(q) for i, v, q in await cur.fetchall()}


async def add_entry(conn: psycopg.AsyncConnection, *, enterprise_id: str, kind: EntryKind, instrument: Instrument,
                    vintage: int, quantity: float, actor: str, price: float | None = None,
                    counterparty: str | None = None, compliance_year: int | None = None,
                    reference: str | None = None) -> dict[str, Any]:
    """Append one entry inside the caller's transaction; AssetError (nothing written) when a balance would go
    negative."""
    await _lock(conn, enterprise_id)
    apply_entries([Entry(kind, instrument, vintage, quantity, reference or "")],
                  opening=await balances(conn, enterprise_id=enterprise_id))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO asset_ledger (enterprise_id, kind, instrument, vintage, quantity, price, counterparty,"
            " compliance_year, reference, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            f" RETURNING {', '.join(LEDGER_COLUMNS)}",
            (enterprise_id, kind.value, instrument.value, vintage, quantity, price, counterparty, compliance_year,
             reference, actor))
        row = await cur.fetchone()
    assert row is not None
    return _entry(row)


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "price": None if row["price"] is None else float(row["price"])}


async def ledger(conn: psycopg.AsyncConnection, *, enterprise_id: str) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(LEDGER_COLUMNS)} FROM asset_ledger WHERE enterprise_id = %s"
                          " ORDER BY entry_id", (enterprise_id,))
        return [_entry(row) for row in await cur.fetchall()]


async def allowance(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(ALLOWANCE_COLUMNS)} FROM asset_allowances"
                          " WHERE enterprise_id = %s AND year = %s", (enterprise_id, year))
        return await cur.fetchone()


async def allowances(conn: psycopg.AsyncConnection, *, enterprise_id: str) -> list[dict[str, Any]]:
    """Every year's allocation of the enterprise, newest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(ALLOWANCE_COLUMNS)} FROM asset_allowances WHERE enterprise_id = %s"
                          " ORDER BY year DESC", (enterprise_id,))
        return list(await cur.fetchall())


async def put_allowance(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int, method: str,
                        benchmark: float | None, output: float | None, adjustment: float | None, amount: float,
                        allocated_by: str, output_source: str | None = None,
                        output_basis: str | None = None) -> bool:
    """Record a year's allocation; False when the year is already allocated."""
    cur = await conn.execute(
        "INSERT INTO asset_allowances (enterprise_id, year, method, benchmark, output, output_source, output_basis,"
        " adjustment, amount, allocated_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (enterprise_id, year, method, benchmark, output, output_source, output_basis, adjustment, amount,
         allocated_by))
    return cur.rowcount == 1


async def put_emissions(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int, month: int | None,
                        tco2: float, updated_by: str) -> float | None:
    """Record a month's (or, month None, the verified year's) emissions; returns the previous figure."""
    cur = await conn.execute("SELECT tco2 FROM asset_emissions WHERE enterprise_id = %s AND year = %s"
                             " AND COALESCE(month, 0) = %s", (enterprise_id, year, month or 0))
    before = await cur.fetchone()
    await conn.execute(
        "INSERT INTO asset_emissions (enterprise_id, year, month, tco2, updated_by) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (enterprise_id, year, COALESCE(month, 0)) DO UPDATE SET tco2 = EXCLUDED.tco2,"
        " updated_at = now(), updated_by = EXCLUDED.updated_by", (enterprise_id, year, month, tco2, updated_by))
    return None if before is None else float(before[0])


async def emissions(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int) -> tuple[float | None,
                                                                                              dict[int, float]]:
    """The verified emissions of a year (None until entered) and the monthly figures recorded."""
    cur = await conn.execute("SELECT month, tco2 FROM asset_emissions WHERE enterprise_id = %s AND year = %s",
                             (enterprise_id, year))
    verified, monthly = None, {}
    for month, tco2 in await cur.fetchall():
        if month is None:
            verified = float(tco2)
        else:
            monthly[int(month)] = float(tco2)
    return verified, monthly


async def deadlines(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    """The deadline calendar (migration 132), soonest first; the caller filters by region."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(DEADLINE_COLUMNS)} FROM asset_deadlines ORDER BY due_on, deadline_id")
        return list(await cur.fetchall())


async def deadline(conn: psycopg.AsyncConnection, *, deadline_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(DEADLINE_COLUMNS)} FROM asset_deadlines WHERE deadline_id = %s",
                          (deadline_id,))
        return await cur.fetchone()


async def add_deadline(conn: psycopg.AsyncConnection, *, values: dict[str, Any], created_by: str) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO asset_deadlines (region, kind, title, due_on, remind_days, note, created_by) VALUES"
            " (%(region)s, %(kind)s, %(title)s, %(due_on)s, %(remind_days)s, %(note)s, %(by)s)"
            f" RETURNING {', '.join(DEADLINE_COLUMNS)}", {**values, "by": created_by})
        row = await cur.fetchone()
    assert row is not None
    return row


async def delete_deadline(conn: psycopg.AsyncConnection, *, deadline_id: int) -> None:
    await conn.execute("DELETE FROM asset_deadlines WHERE deadline_id = %s", (deadline_id,))


async def allowance_holders(conn: psycopg.AsyncConnection, *, year: int | None = None) -> list[dict[str, Any]]:
    """The enterprises that hold allowances (enterprise_id, name, region): with `year`, those allocated for that
    year; without, those ever allocated or holding allowances in their ledger."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT e.enterprise_id, e.name, e.region FROM enterprises e WHERE EXISTS (SELECT 1 FROM asset_allowances"
            " a WHERE a.enterprise_id = e.enterprise_id AND (%(year)s::int IS NULL OR a.year = %(year)s))"
            " OR (%(year)s::int IS NULL AND EXISTS (SELECT 1 FROM asset_ledger l WHERE l.enterprise_id = e.enterprise_id"
            " AND l.instrument = 'allowance')) ORDER BY e.enterprise_id", {"year": year})
        return list(await cur.fetchall())
