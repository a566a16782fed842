"""Why an envelope failed its schema, in words that name the field and the reading it belongs to.

pydantic says where (`devices.0.value.3`) and what (`Input should be a finite number`); a gateway's technician
also needs to know which device, point and sequence number that is, and what to send instead. The envelope is
parsed a second time for that, by the standard library's lenient JSON reader, only on this error path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from carbon_domain.schemas import IDENTIFIER_PATTERN, IDENTIFIER_RULE

__all__ = ["schema_refusal", "location"]

_EXCERPT = 40
_SURROGATE = re.compile("[\ud800-\udfff]")
_MISSING = object()
_PER_READING = frozenset({"seq", "point", "value", "unit", "kind", "quality", "source_us", "gateway_us", "reasons"})


def schema_refusal(exc: ValidationError, text: str | None) -> str:
    """The reason an envelope (JSON `text`, when it could be read) failed its schema, naming field and reading."""
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        document = _lenient_document(text)
        found = None if document is None else _surrogate_location(document)  # pydantic's reader refuses them
        if found is None:
            return f"malformed JSON: {first['msg']}"
        loc, text_sent = found
        return _sentence(loc, document, f"{_excerpt(text_sent)} holds a lone surrogate (half of a UTF-16 pair),"
                                        " which is no text", 1)
    loc = tuple(first["loc"])
    return _sentence(loc, _lenient_document(text), _what_is_wrong(first), exc.error_count())


def location(loc: tuple[str | int, ...]) -> str:
    """`devices.0.point.1`; a key the sender made up is part of it, so it is escaped and cut like any text sent."""
    return ".".join(str(p) if isinstance(p, int) else _excerpt(p)[1:-1] for p in loc)


def _sentence(loc: tuple[str | int, ...], document: Any, what: str, errors: int) -> str:
    where = location(loc)
    reading = _reading_of(loc, document)
    return f"invalid envelope: {where}{f' ({reading})' if reading else ''}: {what} ({errors} errors)"


def _what_is_wrong(error: ErrorDetails) -> str:
    kind, given = error["type"], _excerpt(error["input"])
    if kind == "string_pattern_mismatch":
        if error.get("ctx", {}).get("pattern") == IDENTIFIER_PATTERN:
            return f"{given} is not an identifier: use {IDENTIFIER_RULE}"
        return f"{given} holds a control character"
    if kind == "finite_number":
        return f"{given} is not a finite number: send null with quality 1 or 2 and a reason instead"
    if kind == "float_type":
        return f"{given} is not a number: send a JSON number (never a string or a boolean), or null"
    if kind in ("string_too_long", "string_too_short"):
        return f"{given}: {error['msg']}"
    return error["msg"]


def _excerpt(value: object) -> str:
    """What was sent, as JSON in ASCII (a control character shows as \\u0000, NaN as NaN), cut when long: a
    reason holds no character that the dead-letter store or a terminal could choke on."""
    try:
        shown = json.dumps(value)
    except (TypeError, ValueError):
        shown = ascii(value)
    return shown if len(shown) <= _EXCERPT else f"{shown[:_EXCERPT - 5]}...{shown[-2:]}"


def _lenient_document(text: str | None) -> Any:
    """The envelope as Python objects, NaN, 1e400 and lone surrogates included; None when it is no JSON at all."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _reading_of(loc: tuple[str | int, ...], document: Any) -> str:
    """"device 'm-3', point 'kw', seq 1203" for a location inside one reading: as much as the document tells,
    leaving out the field that is itself wrong (its excerpt follows)."""
    if len(loc) < 2 or loc[0] not in ("devices", "readings"):
        return ""
    try:
        holder = document[loc[0]][loc[1]]
    except (KeyError, IndexError, TypeError):
        return ""
    if loc[0] == "readings":  # version 1: a reading is an object
        fields = {f: _field(holder, f) for f in ("device", "point", "seq")}
    elif len(loc) >= 4 and loc[2] in _PER_READING:  # version 2: a reading is a position in its device's lists
        fields = {"device": _field(holder, "device"), "point": _field(holder, "point", loc[3]),
                  "seq": _field(holder, "seq", loc[3])}
    else:
        fields = {"device": _field(holder, "device")}
    return ", ".join(f"{name} {_excerpt(value)}" for name, value in fields.items()
                     if value is not _MISSING and loc[2:3] != (name,))


def _field(holder: Any, name: str, position: str | int | None = None) -> Any:
    try:
        value = holder[name]
        return value if position is None else value[int(position)]
    except (KeyError, IndexError, TypeError, ValueError):
        return _MISSING


def _surrogate_location(document: Any, loc: tuple[str | int, ...] = ()) -> tuple[tuple[str | int, ...], str] | None:
    """Where the first string (or key) holding a lone surrogate is, and that string."""
    if isinstance(document, str):
        return (loc, document) if _SURROGATE.search(document) else None
    if isinstance(document, dict):
        items: Any = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        return None
    for key, value in items:
        if isinstance(key, str) and _SURROGATE.search(key):
            return (*loc, key), key
        found = _surrogate_location(value, (*loc, key))
        if found is not None:
            return found
    return None
