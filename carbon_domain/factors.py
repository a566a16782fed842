"""The versioned emission-factor library.

Every factor is a `FactorRow`; a `FactorLibrary` is an immutable collection of
rows that answers "which row applies to this key at this time, for this
device?". Callers record the `factor_id` of the row they used so that any
figure can be traced and recomputed when a factor changes.

Resolution rules (`FactorLibrary.resolve`):

* Time: a row applies on the calendar days `valid_from`..`valid_to`
  (inclusive), taken in China Standard Time (UTC+08:00) because the published
  data years are Chinese calendar years. An empty `valid_to` is open-ended.
* Scope: national rows always apply; a device, enterprise, province or region
  row applies only when the caller's `scope_chain` names it. The most specific
  applicable scope wins (device, enterprise, province, region, national).
* Series: a series is one published table. Passing `series` restricts the
  search to it; without it, rows from two series at the winning scope are an
  `AmbiguousFactor` error rather than a silent mix of tables.
* Versions: among rows left, the latest `valid_from` wins, then the row added
  last. Adding a row for the same key, scope and period (with a new
  `factor_id`) therefore publishes a new version without editing the old one.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from importlib import resources
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from carbon_domain.errors import AmbiguousFactor, FactorLibraryError, FactorNotFound

__all__ = ["Scope", "FactorRow", "FactorLibrary", "FACTOR_TIMEZONE", "current_versions"]

FACTOR_TIMEZONE = timezone(timedelta(hours=8), "CST")
"""Time zone in which `valid_from`/`valid_to` calendar days are read."""

# Electricity rows cover their data year only, except the newest data year of
# each series, whose valid_to is left empty: MEE/NBS publish a year's factor
# about two years late, so readings taken after the newest published data year
# must still resolve, and they use that newest year until a newer row is added.
_DEFAULT_CSV = "factors.csv"


class Scope(StrEnum):
    DEVICE = "device"
    ENTERPRISE = "enterprise"
    PROVINCE = "province"
    REGION = "region"
    NATIONAL = "national"


# Higher is more specific.
_SPECIFICITY: dict[Scope, int] = {
    Scope.NATIONAL: 0,
    Scope.REGION: 1,
    Scope.PROVINCE: 2,
    Scope.ENTERPRISE: 3,
    Scope.DEVICE: 4,
}


class FactorRow(BaseModel):
    """One published (or administrator-entered) factor value and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    factor_id: str = Field(min_length=3, max_length=200, pattern=r"^\S+$")
    key: str = Field(max_length=160, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    value: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32)
    scope: Scope
    scope_id: str = Field(min_length=1, max_length=128, pattern=r"^\S+$")
    valid_from: date
    valid_to: date | None = None
    series: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9.-]*$")
    source: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> FactorRow:
        if not self.factor_id.startswith(f"{self.key}@"):
            raise ValueError(
                f"factor_id {self.factor_id!r} must start with its key and '@' "
                f"(e.g. {self.key}@2023), so that ids stay traceable to keys"
            )
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        if self.unit == "fraction" and self.value > 1:
            raise ValueError(f"a fraction must be within 0..1, got {self.value}")
        return self

    def is_valid_on(self, day: date) -> bool:
        """Return True if the row applies on calendar day `day`."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class _Candidate(NamedTuple):
    priority: tuple[int, int]  # (scope specificity, -position in scope_chain)
    valid_from: date
    position: int  # position in the library: later rows are newer versions
    row: FactorRow


class FactorLibrary:
    """An immutable, versioned set of factor rows.

    >>> lib = FactorLibrary.default()
    >>> at = datetime(2024, 3, 1, tzinfo=timezone.utc)
    >>> lib.resolve("grid.cn.national_average", at, series="mee-national-average").value
    0.5306
    """

    __slots__ = ("_rows", "_by_key")

    def __init__(self, rows: Iterable[FactorRow]) -> None:
        self._rows: tuple[FactorRow, ...] = tuple(rows)
        self._by_key: dict[str, list[tuple[int, FactorRow]]] = {}
        seen: set[str] = set()
        for position, row in enumerate(self._rows):
            if row.factor_id in seen:
                raise FactorLibraryError(
                    f"factor_id {row.factor_id!r} appears twice; give a new version its own id "
                    f"(e.g. {row.factor_id}.v2) so that figures computed with the old one stay traceable"
                )
            seen.add(row.factor_id)
            self._by_key.setdefault(row.key, []).append((position, row))

    @classmethod
    def default(cls) -> FactorLibrary:
        """Return the library shipped in `carbon_domain/data/factors.csv`."""
        return _default_library()

    @classmethod
    def from_csv(cls, text: str, *, origin: str = "<csv>") -> FactorLibrary:
        """Build a library from CSV text with the `FactorRow` columns; `#` lines are comments."""
        return cls(_parse_csv(text, origin))

    def rows(self) -> tuple[FactorRow, ...]:
        """Return all rows, oldest version first."""
        return self._rows

    def with_row(self, row: FactorRow) -> FactorLibrary:
        """Return a new library with `row` added as the newest version; self is unchanged."""
        return FactorLibrary((*self._rows, row))

    def resolve(
        self,
        key: str,
        at: datetime,
        *,
        series: str | None = None,
        scope_chain: Sequence[tuple[str, str]] = (),
    ) -> FactorRow:
        """Return the row for `key` that applies at `at` (see the module docstring for the rules)."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise FactorLibraryError(
                f"resolve({key!r}) needs a timezone-aware datetime, got naive {at.isoformat()}; "
                "attach a tzinfo (e.g. timezone.utc)"
            )
        day = at.astimezone(FACTOR_TIMEZONE).date()
        allowed = _chain_priorities(scope_chain)
        candidates = [
            _Candidate(priority, row.valid_from, position, row)
            for position, row in self._by_key.get(key, ())
            if (series is None or row.series == series)
            and row.is_valid_on(day)
            and (priority := _priority(row, allowed)) is not None
        ]
        if not candidates:
            raise FactorNotFound(self._not_found_message(key, at, day, series, scope_chain))
        best = max(c.priority for c in candidates)
        winners = [c for c in candidates if c.priority == best]
        found_series = sorted({c.row.series for c in winners})
        if len(found_series) > 1:
            raise AmbiguousFactor(
                f"factor {key!r} at {at.isoformat()} exists in series {', '.join(found_series)}; "
                "pass series=... to choose one table (never mix two tables in one inventory)"
            )
        return max(winners, key=lambda c: (c.valid_from, c.position)).row

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"FactorLibrary({len(self._rows)} rows)"

    def _not_found_message(
        self,
        key: str,
        at: datetime,
        day: date,
        series: str | None,
        scope_chain: Sequence[tuple[str, str]],
    ) -> str:
        where = f"in series {series!r}" if series is not None else "in any series"
        scopes = ", ".join(["national", *(f"{s}:{i}" for s, i in scope_chain)])
        message = f"no factor {key!r} valid at {at.isoformat()} (day {day} UTC+08:00) {where} for scopes {scopes}"
        existing = self._by_key.get(key, [])
        if not existing:
            return f"{message}; the library has no rows for this key: check the spelling or add one with with_row()"
        shown = "; ".join(_describe(row) for _, row in existing[:6])
        more = f" and {len(existing) - 6} more" if len(existing) > 6 else ""
        message = f"{message}; rows for this key: {shown}{more}"
        unnamed = sorted(
            {(row.scope.value, row.scope_id) for _, row in existing if row.scope is not Scope.NATIONAL}
            - {(scope, scope_id) for scope, scope_id in scope_chain}
        )
        if unnamed:
            scope, scope_id = unnamed[0]
            return (
                f"{message}. Scoped rows apply only when scope_chain names their scope, "
                f"e.g. scope_chain=[({scope!r}, {scope_id!r})]"
            )
        return f"{message}. Add a row for that period or series with with_row()"


def current_versions(rows: Sequence[FactorRow]) -> dict[str, str | None]:
    """factor_id -> the factor_id of the newer version that replaces it, or None for a current row.

    `rows` oldest version first, as `FactorLibrary.rows()` gives them. A later row with the same key, series,
    scope and `valid_from` replaces an earlier one wherever both apply (resolution takes the latest
    `valid_from`, then the row added last), so the earlier one is no longer what a new computation uses.

    >>> a = FactorRow(factor_id="heat.default@a", key="heat.default", value=0.11, unit="tCO2/GJ",
    ...               scope="national", scope_id="CN", valid_from=date(2024, 1, 1), series="heat-default", source="x")
    >>> current_versions([a, a.model_copy(update={"factor_id": "heat.default@b"})])
    {'heat.default@a': 'heat.default@b', 'heat.default@b': None}
    """
    newest: dict[tuple[str, str, Scope, str, date], str] = {}
    for row in rows:
        newest[(row.key, row.series, row.scope, row.scope_id, row.valid_from)] = row.factor_id
    answer: dict[str, str | None] = {}
    for row in rows:
        latest = newest[(row.key, row.series, row.scope, row.scope_id, row.valid_from)]
        answer[row.factor_id] = None if latest == row.factor_id else latest
    return answer


def _chain_priorities(scope_chain: Sequence[tuple[str, str]]) -> dict[tuple[Scope, str], tuple[int, int]]:
    allowed: dict[tuple[Scope, str], tuple[int, int]] = {}
    for index, (scope_name, scope_id) in enumerate(scope_chain):
        try:
            scope = Scope(scope_name)
        except ValueError as exc:
            names = ", ".join(s.value for s in Scope)
            raise FactorLibraryError(f"unknown scope {scope_name!r} in scope_chain; use one of {names}") from exc
        allowed.setdefault((scope, scope_id), (_SPECIFICITY[scope], -index))
    return allowed


def _priority(row: FactorRow, allowed: dict[tuple[Scope, str], tuple[int, int]]) -> tuple[int, int] | None:
    if row.scope is Scope.NATIONAL:
        return (0, 0)
    return allowed.get((row.scope, row.scope_id))


def _describe(row: FactorRow) -> str:
    until = row.valid_to.isoformat() if row.valid_to is not None else "open"
    return f"{row.factor_id} ({row.series}, {row.scope.value}:{row.scope_id}, {row.valid_from}..{until})"


def _parse_csv(text: str, origin: str) -> list[FactorRow]:
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise FactorLibraryError(f"{origin}: no header line; the first non-comment line must name the columns")
    header = _split(lines[0][1])
    rows: list[FactorRow] = []
    for number, line in lines[1:]:
        fields = _split(line)
        if len(fields) != len(header):
            raise FactorLibraryError(
                f"{origin} line {number}: {len(fields)} fields, header has {len(header)}; "
                "quote values that contain commas"
            )
        record: dict[str, str | None] = dict(zip(header, fields, strict=True))
        if record.get("valid_to") == "":
            record["valid_to"] = None
        try:
            rows.append(FactorRow.model_validate(record))
        except ValidationError as exc:
            raise FactorLibraryError(f"{origin} line {number}: {exc}") from exc
    return rows


def _split(line: str) -> list[str]:
    return next(csv.reader([line]))


@functools.cache
def _default_library() -> FactorLibrary:
    resource = resources.files("carbon_domain").joinpath("data").joinpath(_DEFAULT_CSV)
    return FactorLibrary.from_csv(resource.read_text(encoding="utf-8"), origin="carbon_domain/data/factors.csv")
