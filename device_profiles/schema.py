"""Device profile schema: the register or tag map of one device model.

A profile is the single description of a device that both the edge agent
(what to poll and how to decode it) and the simulators (what to serve) use.
Validation rejects unknown keys and reports every problem with the point
name and the numbers involved.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from carbon_domain.errors import UnitError
from carbon_domain.plausibility import rise_limit_from_rated_power
from carbon_domain.registers import (
    REGISTER_WIDTH,
    DataType,
    RegisterCodecError,
    WordByteOrder,
    encode,
    from_engineering,
    register_count,
)
from carbon_domain.schemas import PointKind, Unit

__all__ = [
    "MODBUS_ADDRESS_SPACE",
    "DeviceProfile",
    "ModbusPoint",
    "ModbusTable",
    "OpcUaMode",
    "OpcUaPoint",
    "OpcUaType",
    "Plausibility",
    "Protocol",
]

MODBUS_ADDRESS_SPACE = 65536
"""Addresses per Modbus table (0-based 0..65535)."""

# stricter than the wire's IDENTIFIER_PATTERN (a point name must also be a formula's and a register map's word)
_POINT_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
_STATE_LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
_PROFILE_NAME = r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$"
_NODE_ID = re.compile(r"^ns=(?P<ns>\d+);(i=\d+|s=.+|g=[0-9A-Fa-f-]{36}|b=.+)$")

Problem = tuple[tuple[str | int, ...], str]


def _int_limits(data_type: DataType) -> tuple[int, int]:
    bits = 16 * REGISTER_WIDTH[data_type]
    if data_type.value.startswith("u"):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


class Protocol(StrEnum):
    """Field protocol a profile speaks."""

    MODBUS = "modbus"
    OPCUA = "opcua"


class ModbusTable(StrEnum):
    """The four Modbus data tables."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    INPUT_REGISTER = "input_register"
    HOLDING_REGISTER = "holding_register"

    @property
    def is_bit(self) -> bool:
        """True for coils and discrete inputs (one bit per address)."""
        return self in (ModbusTable.COIL, ModbusTable.DISCRETE_INPUT)

    @property
    def writable(self) -> bool:
        """True for the tables a Modbus client can write."""
        return self in (ModbusTable.COIL, ModbusTable.HOLDING_REGISTER)


class OpcUaType(StrEnum):
    """OPC-UA built-in types a profile point may have."""

    DOUBLE = "double"
    FLOAT = "float"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    BOOLEAN = "boolean"


class OpcUaMode(StrEnum):
    """How a gateway should acquire an OPC-UA point."""

    SUBSCRIBE = "subscribe"
    POLL = "poll"


def _error(message: str) -> PydanticCustomError:
    # Carry the text as context so braces in names never act as a template.
    return PydanticCustomError("profile", "{message}", {"message": message})


def _raise_problems(title: str, problems: list[Problem], value: Any) -> None:
    if problems:
        details = [
            InitErrorDetails(type=_error(message), loc=loc, input=value)
            for loc, message in problems
        ]
        raise ValidationError.from_exception_data(title, details)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class Plausibility(_Strict):
    """How fast a counter may rise: a reading rising faster is stored as bad and adds nothing to energy or
    emissions until someone accepts it (docs/accounting.md). Give one of the two."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_rise_per_h: float | None = Field(
        default=None, gt=0, description="the most the counter may rise in an hour, in the point's unit"
    )
    rated_power_kw: float | None = Field(
        default=None,
        gt=0,
        description="an energy counter's meter rated power; the limit is that power x 1.2 for an hour",
    )


class _Point(_Strict):
    name: str = Field(pattern=_POINT_NAME, max_length=128)
    description: str = ""
    unit: Unit = ""
    kind: PointKind = PointKind.GAUGE
    rollover: float | None = Field(default=None, gt=0)
    valid_range: tuple[float, float] | None = None
    plausibility: Plausibility | None = None
    states: dict[int, str] | None = Field(
        default=None,
        min_length=1,
        description="labels of an enumerated integer (e.g. 0: normal, 1: calibrating)",
    )
    example: bool | int | float | str | None = None

    @property
    def rise_limit_per_h(self) -> float | None:
        """The profile's rate-of-rise limit of a counter, per hour in the point's unit; None when it gives none."""
        if self.plausibility is None:
            return None
        if self.plausibility.max_rise_per_h is not None:
            return self.plausibility.max_rise_per_h
        if self.plausibility.rated_power_kw is None:
            return None
        return rise_limit_from_rated_power(self.plausibility.rated_power_kw, self.unit)

    def _plausibility_problems(self) -> list[Problem]:
        given = self.plausibility
        if given is None:
            return []
        if self.kind is not PointKind.COUNTER:
            return [
                (
                    ("plausibility",),
                    "plausibility (a rate-of-rise limit) applies only to counters; a gauge's is valid_range",
                )
            ]
        if (given.max_rise_per_h is None) == (given.rated_power_kw is None):
            return [
                (
                    ("plausibility",),
                    (
                        "plausibility needs one of max_rise_per_h or rated_power_kw, "
                        f"got {'both' if given.max_rise_per_h is not None else 'neither'}"
                    ),
                )
            ]
        if given.rated_power_kw is not None:
            try:
                rise_limit_from_rated_power(given.rated_power_kw, self.unit)
            except UnitError:
                return [
                    (
                        ("plausibility", "rated_power_kw"),
                        (
                            "rated_power_kw gives a limit only for an energy counter (kWh, MWh, GJ...), "
                            f"not one in {self.unit or 'no unit'!r}: give max_rise_per_h"
                        ),
                    )
                ]
        return []

    def _common_problems(self) -> list[Problem]:
        problems: list[Problem] = self._state_problems() + self._plausibility_problems()
        if (
            self.valid_range is not None
            and not self.valid_range[0] < self.valid_range[1]
        ):
            low, high = self.valid_range
            problems.append(
                (("valid_range",), f"valid_range low {low} must be below high {high}")
            )
        if self.rollover is not None and self.kind is not PointKind.COUNTER:
            problems.append(
                (("rollover",), f"rollover {self.rollover} applies only to counters")
            )
        example = self.example
        if (
            self.valid_range is not None
            and isinstance(example, int | float)
            and not isinstance(example, bool)
            and not self.valid_range[0] <= example <= self.valid_range[1]
        ):
            low, high = self.valid_range
            problems.append(
                (("example",), f"example {example} outside valid_range [{low}, {high}]")
            )
        return problems

    def _state_problems(self) -> list[Problem]:
        if self.states is None:
            return []
        problems: list[Problem] = [
            (
                ("states", code),
                f"state label {label!r} is not like 'calibrating' (a-z, 0-9, _)",
            )
            for code, label in self.states.items()
            if not _STATE_LABEL.match(label)
        ]
        labels = list(self.states.values())
        problems += [
            (("states",), f"state label {label!r} used for {labels.count(label)} codes")
            for label in sorted({label for label in labels if labels.count(label) > 1})
        ]
        if self.kind is PointKind.COUNTER:
            problems.append((("states",), "states apply to gauges, not counters"))
        example = self.example
        if (
            isinstance(example, int | float)
            and not isinstance(example, bool)
            and example not in self.states
        ):
            codes = ", ".join(str(code) for code in sorted(self.states))
            problems.append(
                (("example",), f"example {example} is not one of the states {codes}")
            )
        return problems


class ModbusPoint(_Point):
    """One value in a Modbus table; ``address`` is as written in the profile."""

    table: ModbusTable
    address: int = Field(ge=0, le=MODBUS_ADDRESS_SPACE)
    unit_id: int | None = Field(default=None, ge=0, le=255)
    data_type: DataType
    order: WordByteOrder | None = None
    count: int | None = Field(default=None, ge=1, le=125)
    scale: float = 1.0
    offset: float = 0.0
    poll_interval_s: float = Field(default=1.0, ge=0.1)

    @property
    def width(self) -> int:
        """Registers (or bits) the point occupies."""
        return register_count(self.data_type, count=self.count or 1)

    def zero_based_address(self, address_base: int) -> int:
        """Protocol (0-based) address for a profile written with ``address_base``."""
        return self.address - address_base

    @model_validator(mode="after")
    def _consistent(self) -> ModbusPoint:
        problems = self._common_problems()
        dtype, table = self.data_type, self.table
        if (dtype is DataType.BOOL) != table.is_bit:
            where = (
                "coils and discrete inputs" if dtype is DataType.BOOL else "registers"
            )
            problems.append(
                (("data_type",), f"{dtype} belongs in {where}, not in {table}")
            )
        if dtype is DataType.STRING and self.count is None:
            problems.append((("count",), "string needs count (registers), got none"))
        if dtype is DataType.BOOL and self.count is not None:
            problems.append(
                (("count",), f"count {self.count} applies only to registers, not bool")
            )
        elif (
            dtype is not DataType.STRING
            and self.count is not None
            and self.count != REGISTER_WIDTH[dtype]
        ):
            # Register maps often list a width per entry; it must agree with the type.
            problems.append(
                (
                    ("count",),
                    f"{dtype} needs {REGISTER_WIDTH[dtype]} registers, got {self.count}",
                )
            )
        if not dtype.is_numeric and (self.scale != 1.0 or self.offset != 0.0):
            problems.append(
                (
                    ("scale",),
                    f"scale {self.scale} / offset {self.offset} apply only to numbers, not {dtype}",
                )
            )
        if (
            self.scale == 0
            or not math.isfinite(self.scale)
            or not math.isfinite(self.offset)
        ):
            problems.append(
                (
                    ("scale",),
                    f"scale {self.scale} and offset {self.offset} must be finite, scale non-zero",
                )
            )
        if self.kind is PointKind.COUNTER and not dtype.is_numeric:
            problems.append((("kind",), f"a counter must be numeric, not {dtype}"))
        if self.states is not None and (
            not dtype.is_integer or self.scale != 1.0 or self.offset != 0.0
        ):
            problems.append(
                (
                    ("states",),
                    f"states need an unscaled integer, not {dtype} x {self.scale:g} + {self.offset:g}",
                )
            )
        if not problems and dtype.is_integer:
            problems.extend(self._range_problems())
        if not problems and self.example is not None:
            problems.extend(self._example_problems())
        _raise_problems(type(self).__name__, problems, self.name)
        return self

    def representable(self) -> tuple[float, float]:
        """Lowest and highest engineering values an integer point's registers can hold."""
        low, high = _int_limits(self.data_type)
        ends = sorted((low * self.scale + self.offset, high * self.scale + self.offset))
        return ends[0], ends[1]

    def _range_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        low, high = self.representable()
        what = f"{self.data_type} x {self.scale:g}" + (
            f" + {self.offset:g}" if self.offset else ""
        )
        slack = (
            abs(self.scale) * 1e-6
        )  # decimal scales such as 0.01 are not exact in binary
        if self.valid_range is not None:
            lo, hi = self.valid_range
            if lo < low - slack or hi > high + slack:
                problems.append(
                    (
                        ("valid_range",),
                        f"valid_range [{lo:g}, {hi:g}] exceeds what {what} can hold [{low:g}, {high:g}]",
                    )
                )
        if self.rollover is not None:
            span = (high - low) + abs(self.scale)
            if self.rollover > span + slack:
                problems.append(
                    (
                        ("rollover",),
                        f"rollover {self.rollover:g} exceeds the {span:g} that {what} can count",
                    )
                )
        return problems

    def _example_problems(self) -> list[Problem]:
        example, dtype = self.example, self.data_type
        is_bool, is_text = isinstance(example, bool), isinstance(example, str)
        if (
            example is None
            or is_bool != (dtype is DataType.BOOL)
            or is_text != (dtype is DataType.STRING)
        ):
            return [(("example",), f"example {example!r} does not fit {dtype}")]
        try:
            raw = from_engineering(example, self.scale, self.offset, dtype)
            encode(
                raw, self.data_type, self.order or WordByteOrder.ABCD, count=self.count
            )
        except RegisterCodecError as exc:
            return [
                (
                    ("example",),
                    f"example {self.example!r} does not fit {self.data_type}: {exc}",
                )
            ]
        return []


class OpcUaPoint(_Point):
    """One OPC-UA variable, addressed by its NodeId string."""

    node_id: str
    data_type: OpcUaType
    sampling_interval_s: float = Field(default=1.0, ge=0.05)
    mode: OpcUaMode = OpcUaMode.SUBSCRIBE

    @property
    def namespace_index(self) -> int:
        """Namespace index of ``node_id``."""
        match = _NODE_ID.match(self.node_id)
        assert match is not None  # validated
        return int(match["ns"])

    @field_validator("node_id")
    @classmethod
    def _node_id_form(cls, value: str) -> str:
        match = _NODE_ID.match(value)
        if match is None:
            raise _error(
                f"node_id {value!r} is not like 'ns=2;s=Boiler1.SteamFlow' (ns=N;i=|s=|g=|b=)"
            )
        if int(match["ns"]) < 1:
            raise _error(
                f"node_id {value!r} uses namespace 0, which is reserved for the OPC-UA standard"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaPoint:
        problems = self._common_problems()
        if self.kind is PointKind.COUNTER and self.data_type is OpcUaType.BOOLEAN:
            problems.append((("kind",), "a counter must be numeric, not boolean"))
        if self.states is not None and self.data_type not in _OPCUA_INTEGERS:
            problems.append(
                (("states",), f"states need an integer type, not {self.data_type}")
            )
        if self.example is not None and (
            self.data_type is OpcUaType.BOOLEAN
        ) != isinstance(self.example, bool):
            problems.append(
                (
                    ("example",),
                    f"example {self.example!r} does not fit {self.data_type}",
                )
            )
        _raise_problems(type(self).__name__, problems, self.name)
        return self


_MODBUS_POINTS = TypeAdapter(list[ModbusPoint])
_OPCUA_POINTS = TypeAdapter(list[OpcUaPoint])
_OPCUA_INTEGERS = (OpcUaType.INT32, OpcUaType.UINT32, OpcUaType.INT64)
_MODBUS_ONLY = ("address_base", "unit_id", "default_order")


class DeviceProfile(_Strict):
    """The map of one device model: identity, protocol settings and points.

    After validation every Modbus point carries a concrete ``unit_id`` and
    ``order`` (the profile defaults fill the gaps), so points can be handed
    to `device_profiles.blocks.plan_blocks` as they are.
    """

    name: str = Field(pattern=_PROFILE_NAME, description="vendor/model")
    version: int = Field(ge=1)
    description: str
    follows: str = Field(
        min_length=1, description="public document the map is modelled on"
    )
    protocol: Protocol
    address_base: Literal[0, 1] = 0
    unit_id: int = Field(default=1, ge=0, le=255)
    default_order: WordByteOrder = WordByteOrder.ABCD
    namespace_uri: str | None = Field(default=None, min_length=1)
    points: list[ModbusPoint] | list[OpcUaPoint]

    _explicit_units: frozenset[str] = PrivateAttr(default=frozenset())

    @field_validator("points", mode="before")
    @classmethod
    def _points_for_protocol(cls, value: Any, info: ValidationInfo) -> Any:
        protocol = info.data.get("protocol")
        if protocol is None:
            return []  # the protocol error is already reported
        if not isinstance(value, list) or not value:
            raise _error(f"a profile needs at least 1 point, got {value!r}")
        adapter = _MODBUS_POINTS if protocol is Protocol.MODBUS else _OPCUA_POINTS
        return adapter.validate_python(value)

    @model_validator(mode="after")
    def _consistent(self) -> DeviceProfile:
        problems = self._name_problems()
        if self.protocol is Protocol.MODBUS:
            problems += self._modbus_problems()
        else:
            problems += self._opcua_problems()
        _raise_problems(type(self).__name__, problems, self.name)
        if self.protocol is Protocol.MODBUS:
            self._resolve_defaults()
        return self

    def point(self, name: str) -> ModbusPoint | OpcUaPoint:
        """The point called ``name`` (KeyError if absent)."""
        for candidate in self.points:
            if candidate.name == name:
                return candidate
        raise KeyError(f"profile {self.name} has no point {name!r}")

    @property
    def modbus_points(self) -> list[ModbusPoint]:
        """Points of a Modbus profile (TypeError for OPC-UA)."""
        if self.protocol is not Protocol.MODBUS:
            raise TypeError(f"profile {self.name} is {self.protocol}, not modbus")
        return self.points  # type: ignore[return-value]

    @property
    def opcua_points(self) -> list[OpcUaPoint]:
        """Points of an OPC-UA profile (TypeError for Modbus)."""
        if self.protocol is not Protocol.OPCUA:
            raise TypeError(f"profile {self.name} is {self.protocol}, not opcua")
        return self.points  # type: ignore[return-value]

    def zero_based_address(self, point: ModbusPoint) -> int:
        """Protocol (0-based) address of ``point``."""
        return point.zero_based_address(self.address_base)

    def with_unit_id(self, unit_id: int) -> DeviceProfile:
        """A copy served or polled at ``unit_id``; points with their own unit id keep it."""
        data = self.model_dump()
        data["unit_id"] = unit_id
        for point in data["points"]:
            if point["name"] not in self._explicit_units:
                point.pop("unit_id", None)
        return DeviceProfile.model_validate(data)

    def _name_problems(self) -> list[Problem]:
        seen: set[str] = set()
        problems: list[Problem] = []
        for index, point in enumerate(self.points):
            if point.name in seen:
                problems.append(
                    (("points", index, "name"), f"duplicate point name {point.name!r}")
                )
            seen.add(point.name)
        return problems

    def _modbus_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.namespace_uri is not None:
            problems.append(
                (("namespace_uri",), "namespace_uri applies only to opcua profiles")
            )
        spans: dict[tuple[int, ModbusTable], list[tuple[int, int, ModbusPoint]]] = (
            defaultdict(list)
        )
        for index, point in enumerate(self.modbus_points):
            start = point.zero_based_address(self.address_base)
            end = start + point.width - 1
            loc = ("points", index, "address")
            if start < 0:
                problems.append(
                    (
                        loc,
                        f"address {point.address} is below address_base {self.address_base}",
                    )
                )
            elif end >= MODBUS_ADDRESS_SPACE:
                last = MODBUS_ADDRESS_SPACE - 1 + self.address_base
                problems.append(
                    (
                        loc,
                        f"{point.name} spans {point.address}..{point.address + point.width - 1}, past the last address {last}",
                    )
                )
            unit = self.unit_id if point.unit_id is None else point.unit_id
            spans[(unit, point.table)].append((start, end, point))
        for (unit, table), entries in spans.items():
            problems += self._overlaps(unit, table, entries)
        return problems

    def _overlaps(
        self, unit: int, table: ModbusTable, entries: list[tuple[int, int, ModbusPoint]]
    ) -> list[Problem]:
        problems: list[Problem] = []
        entries.sort(key=lambda entry: entry[0])
        base = self.address_base
        reach: tuple[int, int, ModbusPoint] | None = (
            None  # the entry reaching furthest so far
        )
        for start, end, point in entries:
            if reach is not None and start <= reach[1]:
                s1, e1, p1 = reach
                message = (
                    f"points {p1.name} ({s1 + base}..{e1 + base}) and {point.name} "
                    f"({start + base}..{end + base}) overlap in {table} of unit {unit}"
                )
                problems.append((("points",), message))
            if reach is None or end > reach[1]:
                reach = (start, end, point)
        return problems

    def _opcua_problems(self) -> list[Problem]:
        problems: list[Problem] = [
            ((field,), f"{field} applies only to modbus profiles")
            for field in _MODBUS_ONLY
            if field in self.model_fields_set
        ]
        seen: dict[str, str] = {}
        for index, point in enumerate(self.opcua_points):
            if point.node_id in seen:
                problems.append(
                    (
                        ("points", index, "node_id"),
                        f"node_id {point.node_id} used by {seen[point.node_id]} and {point.name}",
                    )
                )
            seen[point.node_id] = point.name
        return problems

    def _resolve_defaults(self) -> None:
        explicit = set()
        for point in self.modbus_points:
            if point.unit_id is None:
                point.unit_id = self.unit_id
            elif "unit_id" in point.model_fields_set:
                explicit.add(point.name)
            if point.order is None:
                point.order = self.default_order
        self._explicit_units = frozenset(explicit)
