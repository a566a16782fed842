"""JSON answers encoded by orjson: several times faster than FastAPI's encoder on large bodies (a year of
hourly buckets is 8,760 objects), with the same text for the types the API returns (datetimes in ISO 8601
with their offset, as `datetime.isoformat` writes them)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

__all__ = ["dumps", "json_response"]


def dumps(body: Any) -> bytes:
    """`body` as compact JSON; types orjson does not know go through FastAPI's encoder."""
    return orjson.dumps(body, default=jsonable_encoder)


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(dumps(body), status_code=status_code, media_type="application/json")
