"""Storing a take whose write failed: the records that can be stored are, each that cannot goes to the dead letters.

The readings agent writes a lane's chunk of Kafka records in one transaction. When that write fails, it is
either the database (down, restarting, a lost connection, a serialization failure or deadlock: retried until
it is back, and nothing is dead-lettered) or something in the records (a NUL character PostgreSQL text cannot
hold, a value a column refuses, a record the sink's code trips over). For the second kind `store_isolating`
splits the chunk in halves, in order, and writes each half in its own transaction, down to single records:
every record that stores is stored, and a record that fails alone, again, is handed to `reject` with the
exception. One bad record among 400 costs about 18 writes instead of one, and only when a write failed.

The halves are written in their order, so a device's records still reach the sink in order. A half that
was stored before a crash is stored once on replay: the sink drops readings it already holds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

import psycopg

from carbon_domain.schemas import DeviceColumns

__all__ = ["is_transient", "backoff_delays", "store_isolating", "store_failure_reason", "printable"]

log = logging.getLogger("stream_jobs.isolation")
T = TypeVar("T")

# SQLSTATE classes of failures that are not the records': the connection (08), a serialization failure or
# deadlock (40), resources such as disk or memory (53), an administrator or a restart (57), the system (58),
# a lock or object busy (55), a deployment that lacks a table, a column or a privilege (42, 3D, 3F, 28), a
# transaction in a wrong state (25) and internal errors (XX). Data exceptions (22), constraint violations (23)
# and program limits such as an index row too large (54) come from what was written.
_TRANSIENT_CLASSES = frozenset({"08", "25", "28", "3D", "3F", "40", "42", "53", "55", "57", "58", "XX"})
_ALONE_ATTEMPTS = 2  # a record that failed in a group is written alone this many times before it is rejected
_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 8.0
_REASON_MAX = 500


def is_transient(exc: BaseException) -> bool:
    """Whether a failed write should be retried as it is (the database's trouble), not blamed on its records."""
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate
        if state is not None:
            return state[:2] in _TRANSIENT_CLASSES
        # raised by psycopg itself: a lost or closed connection, or a value it could not send (DataError)
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return isinstance(exc, OSError | TimeoutError)


def backoff_delays() -> Iterator[float]:
    """Seconds to wait before each retry while the database is unavailable: 0.5, 1, 2, 4, then 8 each time."""
    delay = _BACKOFF_FIRST_S
    while True:
        yield delay
        delay = min(delay * 2, _BACKOFF_MAX_S)


async def store_isolating(items: Sequence[T], write: Callable[[Sequence[T]], Awaitable[None]],
                          reject: Callable[[T, BaseException], Awaitable[None]]) -> int:
    """Write `items` (in one call when it succeeds); return how many were rejected.

    `write` stores the items it is given in one transaction, waits out transient failures itself and raises
    only what the items caused. Then the items are written in halves, recursively and in order, and an item
    that fails alone `_ALONE_ATTEMPTS` times is passed to `reject` with its last exception.
    """
    try:
        await write(items)
        return 0
    except Exception as exc:  # noqa: BLE001  (any error the records caused: that is what is isolated)
        if len(items) > 1:
            log.warning("a write of %d records failed (%s); writing them in halves to find the records that cannot"
                        " be stored", len(items), _one_line(exc))
            middle = len(items) // 2
            return (await store_isolating(items[:middle], write, reject)
                    + await store_isolating(items[middle:], write, reject))
        failure: BaseException = exc
    for _ in range(_ALONE_ATTEMPTS - 1):
        try:
            await write(items)
            return 0
        except Exception as exc:  # noqa: BLE001  (as above; the last one is the dead letter's reason)
            failure = exc
    await reject(items[0], failure)
    return 1


def printable(text: str) -> str:
    """`text` with characters PostgreSQL text cannot hold or a log should not show (NUL, control characters,
    lone surrogates) written as escapes, e.g. 'bad\\x00point'."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _one_line(exc: BaseException) -> str:
    return printable(f"{type(exc).__name__}: {exc}".replace("\n", " "))


def _unstorable(text: str) -> str | None:
    """What in `text` PostgreSQL text cannot hold, or None."""
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "a lone surrogate (not UTF-8)"
    return None


def _suspect_fields(record: DeviceColumns) -> list[str]:
    """The record's identifiers and units that PostgreSQL text cannot hold, named as in the record."""
    found: list[str] = []
    for name in ("gateway", "device"):
        value = getattr(record, name)
        if (what := _unstorable(value)) is not None:
            found.append(f"{name} '{printable(value)}' holds {what}")
    for column in ("point", "unit"):
        seqs: dict[str, list[int]] = {}  # each bad value once, with the readings that carry it
        for seq, value in zip(record.seq, getattr(record, column)):
            if value in seqs or _unstorable(value) is not None:
                seqs.setdefault(value, []).append(seq)
        for value, where in seqs.items():
            more = f" and {len(where) - 1} more" if len(where) > 1 else ""
            found.append(f"{column} '{printable(value)}' (seq {where[0]}{more}) holds {_unstorable(value)}")
    return found


def store_failure_reason(record: DeviceColumns, exc: BaseException) -> str:
    """The dead letter's reason for a record that failed to store alone: the fields at fault when they can be
    named, and the error."""
    fields = _suspect_fields(record)
    where = "; ".join(fields[:3]) + (f"; and {len(fields) - 3} more" if len(fields) > 3 else "")
    reason = (f"record could not be stored: {where + ' (' + _one_line(exc) + ')' if where else _one_line(exc)}")
    return reason if len(reason) <= _REASON_MAX else reason[:_REASON_MAX - 3] + "..."
