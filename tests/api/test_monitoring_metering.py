"""Metered monthly figures (api/monitoring/metering.py, `carbonflow monitoring meter-months`): a unit linked to a
metered enterprise gets figures of source 'metered' from the pipeline's rollups, with tCO2/tce, revision history
and totals; a second run with the same readings writes nothing, and a figure the unit reported is kept."""

from __future__ import annotations

import asyncio
from datetime import date

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.monitoring.metering import meter_months
from tests.api.test_monitoring import _metered_enterprise, credit_code, csv_file, upload
from tests.api.test_monitoring_totals import region_totals


async def _meter(database_url: str) -> dict[str, object]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        run = await meter_months(conn, first=date(2026, 3, 1), last=date(2026, 3, 1), by="test")
    return run.as_dict()


def test_metered_months_become_figures_of_source_metered_once(api_app_client: TestClient,
                                                             admin_headers: dict[str, str], db: psycopg.Connection,
                                                             database_url: str) -> None:
    enterprise, site = asyncio.run(_metered_enterprise(database_url, [5000.0, 6000.0, 7500.0]))  # 2.5 MWh
    code, reported = credit_code(), credit_code()
    upload(api_app_client, admin_headers, csv_file(f"{code},Meter Co,330502,313,2026-02,coal,3,t",
                                                   f"{reported},Reported Co,330502,313,2026-03,electricity,9,MWh"))
    for each in (code, reported):
        db.execute("UPDATE monitoring_units SET enterprise_id = %s, site_id = %s WHERE credit_code = %s",
                   (enterprise, site, each))
    first = asyncio.run(_meter(database_url))
    second = asyncio.run(_meter(database_url))
    rows = db.execute("SELECT u.credit_code, f.item, f.quantity, f.source, f.revision, f.tco2 FROM monitoring_figures f"
                      " JOIN monitoring_units u USING (unit_id) WHERE u.credit_code = ANY(%s)"
                      " AND f.month = '2026-03-01' ORDER BY 1", ([code, reported],)).fetchall()
    history = db.execute("SELECT r.source, b.source FROM monitoring_figure_history r JOIN monitoring_units u"
                         " USING (unit_id) JOIN monitoring_batches b USING (batch_id) WHERE u.credit_code = %s"
                         " AND r.month = '2026-03-01'", (code,)).fetchall()
    expected, stored = region_totals(db, [code])
    by_code = {row[0]: row[1:] for row in rows}
    assert (by_code[code][:4], by_code[reported][:4], history, stored) == (
        ("electricity", 2.5, "metered", 1), ("electricity", 9.0, "file", 1), [("metered", "metered")], expected)
    assert by_code[code][4] == pytest.approx(2.5 * 0.5306, rel=0.2)  # the grid factor of 2026 (METHODS section 1)
    assert (first["stored"] >= 1, first["kept_reported"] >= 1, second["stored"]) == (True, True, 0)
