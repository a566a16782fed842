"""The demo's illustrative provincial dataset: imported once, labelled illustrative, traced and conserved."""

from __future__ import annotations

import psycopg

from api.grid_factors.demo_data import ILLUSTRATIVE_NAME, ensure_illustrative_input


async def test_the_demo_imports_the_illustrative_dataset_once_and_traces_it_under_both_conventions(
        database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        first = await ensure_illustrative_input(conn)
        again = await ensure_illustrative_input(conn)
        async with conn.cursor() as cur:
            await cur.execute("SELECT i.name, i.illustrative, r.convention, r.conserved FROM grid_region_inputs i"
                              " JOIN grid_flow_results r USING (input_id) WHERE i.origin = 'demo' ORDER BY r.convention")
            rows = await cur.fetchall()
    assert first is not None and (first["regions"], first["flows"]) == (6, 9)
    assert again is None
    assert rows == [(ILLUSTRATIVE_NAME, True, "consumption", True), (ILLUSTRATIVE_NAME, True, "generation", True)]
