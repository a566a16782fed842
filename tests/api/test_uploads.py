"""api/uploads.py: the one multipart file of an upload route, its size cap and the route's own error words."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from api.uploads import json_sha256, media_type, read_one_file

LIMIT = 2 * 1024


def _client() -> TestClient:
    app = FastAPI()

    @app.post("/sheets")
    async def sheets(request: Request) -> dict[str, Any]:
        if media_type(request) != "multipart/form-data":
            raise HTTPException(415, "send multipart/form-data")
        sent = await read_one_file(request, max_bytes=LIMIT, holding="the sheet", plural="sheets", unit="KiB",
                                   suffixes=(".csv", ".xlsx"), named="a sheet")
        return {"name": sent.name, "size": len(sent.data), "note": sent.form.get("note"),
                "type": sent.upload.content_type}

    return TestClient(app)


def test_a_file_within_the_limit_comes_back_with_its_name_bytes_and_the_other_fields() -> None:
    r = _client().post("/sheets", files={"file": ("fees.csv", b"x" * LIMIT, "text/csv")}, data={"note": "march"})
    assert (r.status_code, r.json()) == (200, {"name": "fees.csv", "size": LIMIT, "note": "march", "type": "text/csv"})


@pytest.mark.parametrize(("send", "status", "detail"), [
    ({"files": {"file": ("fees.csv", b"x" * (LIMIT + 1), "text/csv")}}, 413, "sheets are limited to 2 KiB"),
    ({"files": {"other": ("fees.csv", b"x", "text/csv")}}, 422, "multipart uploads need a 'file' field with the sheet"),
    ({"data": {"file": "not a file"}, "files": {"other": ("a.csv", b"x")}}, 422,
     "multipart uploads need a 'file' field with the sheet"),
    ({"files": {"file": ("notes.txt", b"x" * (LIMIT + 1), "text/plain")}}, 415,
     "a sheet is .csv or .xlsx, got 'notes.txt'"),
    ({"files": {"file": ("", b"x", "text/plain")}}, 422, "multipart uploads need a 'file' field with the sheet"),
    ({"content": b"month,fee", "headers": {"content-type": "text/csv"}}, 415, "send multipart/form-data"),
])
def test_a_refused_upload_says_why_in_the_routes_words(send: dict[str, Any], status: int, detail: str) -> None:
    r = _client().post("/sheets", **send)
    assert (r.status_code, r.json()["detail"]) == (status, detail)


def test_the_limit_reads_in_mebibytes_by_default() -> None:
    app = FastAPI()

    @app.post("/documents")
    async def documents(request: Request) -> dict[str, int]:
        sent = await read_one_file(request, max_bytes=1024 * 1024, holding="the document", plural="documents")
        return {"size": len(sent.data)}

    r = TestClient(app).post("/documents", files={"file": ("a.pdf", b"x" * (1024 * 1024 + 1))})
    assert (r.status_code, r.json()["detail"]) == (413, "documents are limited to 1 MiB")


def test_json_rows_digest_alike_whatever_their_key_order_and_dates_count_as_text() -> None:
    rows = [{"month": date(2026, 3, 1), "energy_mwh": 1.5}]
    reordered = [{"energy_mwh": 1.5, "month": date(2026, 3, 1)}]
    canonical = b'[{"energy_mwh": 1.5, "month": "2026-03-01"}]'
    assert (json_sha256(rows), json_sha256(reordered)) == (hashlib.sha256(canonical).hexdigest(),) * 2
