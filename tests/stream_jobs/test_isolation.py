"""Which failed writes are the database's (retried, nothing dead-lettered) and which the records' (isolated)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from stream_jobs.isolation import is_transient, printable


@pytest.mark.parametrize(("failure", "transient"), [
    (psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"), True),
    (psycopg.InterfaceError("the connection is closed"), True),
    (errors.AdminShutdown("terminating connection due to administrator command"), True),
    (errors.CannotConnectNow("the database system is starting up"), True),
    (errors.SerializationFailure("could not serialize access"), True),
    (errors.DeadlockDetected("deadlock detected"), True),
    (errors.QueryCanceled("canceling statement due to statement timeout"), True),
    (errors.LockNotAvailable("could not obtain lock"), True),
    (errors.DiskFull("could not extend file"), True),
    (errors.UndefinedTable('relation "reading_batches" does not exist'), True),  # a deployment, not a record
    (errors.InsufficientPrivilege("permission denied for table points"), True),
    (ConnectionResetError("reset by peer"), True),
    (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), False),
    (errors.NumericValueOutOfRange("value out of range: overflow"), False),
    (errors.StringDataRightTruncation("value too long for type character varying(32)"), False),
    (errors.CheckViolation('new row for relation "points" violates check constraint'), False),
    (errors.UniqueViolation("duplicate key value violates unique constraint"), False),
    (errors.ProgramLimitExceeded("index row size 9000 exceeds btree version 4 maximum 2704"), False),
    (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
    (ValueError("'furlong' is not a valid PointKind"), False),
    (KeyError("kwh"), False),
])
def test_a_failed_write_is_retried_only_when_the_database_is_at_fault(failure: BaseException, transient: bool) -> None:
    assert is_transient(failure) is transient


@pytest.mark.parametrize(("text", "shown"), [
    ("meter-3", "meter-3"),
    ("bad\x00point", "bad\\x00point"),
    ("tab\there", "tab\\there"),
    ("lone\ud800", "lone\\ud800"),
])
def test_a_name_the_store_cannot_hold_is_shown_with_escapes(text: str, shown: str) -> None:
    assert printable(text) == shown
