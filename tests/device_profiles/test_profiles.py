"""Device profiles: the library validates, broken profiles say why, blocks coalesce."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from carbon_domain.registers import DataType, WordByteOrder, encode, from_engineering
from device_profiles.blocks import ReadBlock, decode_block, plan_blocks
from device_profiles.cli import main as profiles_main
from device_profiles.loader import (
    ProfileError,
    library_names,
    load_profile,
    parse_profile,
)
from device_profiles.schema import DeviceProfile, ModbusPoint, ModbusTable, Protocol

DEMO_PROFILES = [
    "cf-demo/boiler-opcua",
    "cf-demo/gfc200",
    "cf-demo/plc-line",
    "cf-demo/pm3-meter",
]

VALID: dict[str, Any] = {
    "name": "acme/em1",
    "version": 1,
    "description": "test meter",
    "follows": "a public map",
    "protocol": "modbus",
    "address_base": 0,
    "points": [
        {
            "name": "power_kw",
            "table": "input_register",
            "address": 0,
            "data_type": "float32",
            "unit": "kW",
        },
        {
            "name": "energy_kwh",
            "table": "holding_register",
            "address": 0,
            "data_type": "uint32",
            "scale": 0.01,
            "unit": "kWh",
            "kind": "counter",
        },
        {"name": "running", "table": "coil", "address": 0, "data_type": "bool"},
    ],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """VALID with one key set (``points.1.scale``); value ``...`` deletes the key."""
    data = copy.deepcopy(VALID)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    target: Any = data
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    elif isinstance(target, list) and last == len(target):
        target.append(value)
    else:
        target[last] = value
    return data


def test_library_holds_the_demo_steelworks_profiles() -> None:
    assert set(DEMO_PROFILES) <= set(library_names())


@pytest.mark.parametrize(
    ("name", "protocol", "points"),
    [
        # two three-phase meters with different encodings
        (
            "cf-demo/pm3-meter",
            "modbus",
            {"active_power_kw": "float32", "energy_import_kwh": "uint32"},
        ),
        (
            "cf-demo/em5-energy",
            "modbus",
            {"active_power_kw": "int32", "energy_import_kwh": "int64"},
        ),
        (
            "cf-demo/gfc200",
            "modbus",
            {"flow_nm3h": "float32", "volume_total_nm3": "float64"},
        ),
        (
            "cf-demo/vx-steam",
            "modbus",
            {"mass_flow_tph": "float32", "mass_total_t": "float32"},
        ),
        (
            "cf-demo/plc-works",
            "modbus",
            {
                "sinter_t": "uint32",
                "hot_metal_t": "uint32",
                "crude_steel_t": "uint32",
                "rolled_steel_t": "uint32",
                "heat_count": "uint16",
                "line_running": "bool",
            },
        ),
        (
            "cf-demo/cems-stack",
            "modbus",
            {
                "co2_pct": "float32",
                "o2_pct": "float32",
                "flue_flow_m3h": "float32",
                "flue_temperature_degc": "float32",
                "static_pressure_pa": "float32",
                "moisture_pct": "float32",
                "analyser_status": "uint16",
            },
        ),
        (
            "cf-demo/sinter-s7",
            "opcua",
            {"sinter_total_t": "double", "strand_running": "boolean"},
        ),
        (
            "cf-demo/pv-sunspec",
            "modbus",
            {"ac_power_kw": "int16", "energy_kwh": "uint32"},
        ),
    ],
)
def test_library_has_each_field_device_of_a_steelworks(
    name: str, protocol: str, points: dict[str, str]
) -> None:
    profile = load_profile(name)
    got = {point: str(profile.point(point).data_type) for point in points}
    assert (str(profile.protocol), got) == (protocol, points)


def test_plc_works_keeps_the_casting_line_map_of_plc_line() -> None:
    line, works = load_profile("cf-demo/plc-line"), load_profile("cf-demo/plc-works")
    kept = {
        p.name: (p.table, p.address, p.data_type, p.order, p.scale)
        for p in works.modbus_points
        if p.name in {q.name for q in line.modbus_points}
    }
    assert kept == {
        p.name: (p.table, p.address, p.data_type, p.order, p.scale)
        for p in line.modbus_points
    }


def test_cems_status_names_the_four_analyser_states(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = load_profile("cf-demo/cems-stack").point("analyser_status")
    assert profiles_main(["show", "cf-demo/cems-stack"]) == 0
    assert (status.states, capsys.readouterr().out.splitlines()[-1]) == (
        {0: "normal", 1: "calibrating", 2: "maintenance", 3: "fault"},
        "  analyser_status states: 0=normal, 1=calibrating, 2=maintenance, 3=fault",
    )


@pytest.mark.parametrize("name", library_names())
def test_every_library_profile_validates_and_documents_its_source(name: str) -> None:
    profile = load_profile(name)
    assert (profile.name, bool(profile.follows.strip()), len(profile.points) > 0) == (
        name,
        True,
        True,
    )


@pytest.mark.parametrize(
    "name", [n for n in library_names() if load_profile(n).protocol is Protocol.MODBUS]
)
def test_every_modbus_library_example_encodes(name: str) -> None:
    profile = load_profile(name)
    for point in profile.modbus_points:
        if point.example is not None:
            raw = from_engineering(
                point.example, point.scale, point.offset, point.data_type
            )
            assert (
                len(encode(raw, point.data_type, point.order, count=point.count))
                == point.width
            )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with("name", "NoSlash"), "name: String should match pattern"),
        (_with("follows", ...), "follows: Field required"),
        (_with("protocol", "bacnet"), "protocol: Input should be 'modbus' or 'opcua'"),
        (_with("address_base", 2), "address_base: Input should be 0 or 1"),
        (_with("points", []), "a profile needs at least 1 point, got []"),
        (_with("colour", "red"), "colour: Extra inputs are not permitted"),
        (
            _with("points.0.colour", "red"),
            "points[0] power_kw.colour: Extra inputs are not permitted",
        ),
        (
            _with("points.0.data_type", "float16"),
            "points[0] power_kw.data_type: Input should be 'bool'",
        ),
        (
            _with("points.0.data_type", "bool"),
            "bool belongs in coils and discrete inputs, not in input_register",
        ),
        (
            _with("points.2.data_type", "uint16"),
            "uint16 belongs in registers, not in coil",
        ),
        (
            _with("points.0.data_type", "string"),
            "string needs count (registers), got none",
        ),
        (
            _with("points.0.count", 1),
            "points[0] power_kw.count: float32 needs 2 registers, got 1",
        ),
        (_with("points.2.count", 1), "count 1 applies only to registers, not bool"),
        (
            _with("points.1.valid_range", [0, 50000000]),
            "valid_range [0, 5e+07] exceeds what uint32 x 0.01 can hold [0, 4.29497e+07]",
        ),
        (
            _with("points.1.rollover", 2**32),
            "rollover 4.29497e+09 exceeds the 4.29497e+07 that uint32 x 0.01 can count",
        ),
        (
            _with("points.0.states", {0: "normal"}),
            "states need an unscaled integer, not float32 x 1 + 0",
        ),
        (
            _with(
                "points.3",
                {
                    "name": "status",
                    "table": "input_register",
                    "address": 2,
                    "data_type": "uint16",
                    "states": {0: "normal", 1: "Calibrating", 2: "normal"},
                    "example": 7,
                },
            ),
            "state label 'Calibrating' is not like 'calibrating'",
        ),
        (
            _with(
                "points.3",
                {
                    "name": "status",
                    "table": "input_register",
                    "address": 2,
                    "data_type": "uint16",
                    "states": {0: "normal", 2: "normal"},
                },
            ),
            "state label 'normal' used for 2 codes",
        ),
        (
            _with(
                "points.3",
                {
                    "name": "status",
                    "table": "input_register",
                    "address": 2,
                    "data_type": "uint16",
                    "states": {0: "normal", 1: "fault"},
                    "example": 7,
                },
            ),
            "points[3] status.example: example 7 is not one of the states 0, 1",
        ),
        (
            _with("points.0.scale", 0),
            "scale 0.0 and offset 0.0 must be finite, scale non-zero",
        ),
        (
            _with("points.2.scale", 2),
            "scale 2.0 / offset 0.0 apply only to numbers, not bool",
        ),
        (_with("points.0.rollover", 100), "rollover 100.0 applies only to counters"),
        (
            _with("points.0.plausibility", {"max_rise_per_h": 10}),
            "plausibility (a rate-of-rise limit) applies only to counters; a gauge's is valid_range",
        ),
        (
            _with("points.1.plausibility", {"max_rise_per_h": 10, "rated_power_kw": 5}),
            "plausibility needs one of max_rise_per_h or rated_power_kw, got both",
        ),
        (
            _with("points.1.plausibility", {}),
            "plausibility needs one of max_rise_per_h or rated_power_kw, got neither",
        ),
        (
            _with("points.1.plausibility", {"max_rise_per_h": 0}),
            "max_rise_per_h: Input should be greater than 0",
        ),
        (
            _with("points.1.plausibility", {"max_rise_per_h": float("inf")}),
            "max_rise_per_h: Input should be a finite number",
        ),
        (
            _with("points.1.plausibility", {"max_rise_per_h": 10, "per": "h"}),
            "plausibility.per: Extra inputs are not permitted",
        ),
        (
            _with("points.1", {**VALID["points"][1], "unit": "m3", "plausibility": {"rated_power_kw": 5}}),
            "rated_power_kw gives a limit only for an energy counter (kWh, MWh, GJ...), not one in 'm3'",
        ),
        (
            _with("points.0.valid_range", [10, 5]),
            "valid_range low 10.0 must be below high 5.0",
        ),
        (
            _with("points.0.poll_interval_s", 0.05),
            "poll_interval_s: Input should be greater than or equal to 0.1",
        ),
        (
            _with("points.1.example", 50000000),
            "example 50000000 does not fit uint32: value 5000000000 out of range for uint32 (0..4294967295)",
        ),
        (
            _with(
                "points.3",
                {
                    "name": "power_kw",
                    "table": "input_register",
                    "address": 10,
                    "data_type": "uint16",
                },
            ),
            "points[3] power_kw.name: duplicate point name 'power_kw'",
        ),
        (
            _with(
                "points.3",
                {
                    "name": "reactive",
                    "table": "input_register",
                    "address": 1,
                    "data_type": "uint16",
                },
            ),
            "points power_kw (0..1) and reactive (1..1) overlap in input_register of unit 1",
        ),
        (
            _with(
                "points.3",
                {
                    "name": "far",
                    "table": "holding_register",
                    "address": 65535,
                    "data_type": "uint32",
                },
            ),
            "far spans 65535..65536, past the last address 65535",
        ),
        (
            _with("address_base", 1),
            "points[0] power_kw.address: address 0 is below address_base 1",
        ),
        (
            _with("namespace_uri", "urn:x"),
            "namespace_uri applies only to opcua profiles",
        ),
        (_with("protocol", "opcua"), "points[0] power_kw.node_id: Field required"),
    ],
)
def test_broken_profile_fails_with_a_message_naming_field_and_numbers(
    tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProfileError, match=re.escape(message)) as caught:
        load_profile(path)
    assert caught.value.source == str(path)


@pytest.mark.parametrize(
    ("plausibility", "limit"),
    [({"max_rise_per_h": 250.0}, 250.0), ({"rated_power_kw": 100.0}, 120.0), (None, None)],
)
def test_counter_plausibility_gives_its_rise_limit_per_hour(
    tmp_path: Path, plausibility: dict[str, float] | None, limit: float | None
) -> None:
    path = tmp_path / "meter.yaml"
    data = _with("points.1.plausibility", plausibility) if plausibility else VALID
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert load_profile(path).point("energy_kwh").rise_limit_per_h == pytest.approx(limit)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (
            [{"name": "flow", "node_id": "s=Flow", "data_type": "double"}],
            "node_id 's=Flow' is not like 'ns=2;s=Boiler1.SteamFlow'",
        ),
        (
            [{"name": "flow", "node_id": "ns=0;i=85", "data_type": "double"}],
            "uses namespace 0",
        ),
        (
            [
                {
                    "name": "on",
                    "node_id": "ns=2;s=On",
                    "data_type": "boolean",
                    "kind": "counter",
                }
            ],
            "a counter must be numeric, not boolean",
        ),
        (
            [
                {"name": "a", "node_id": "ns=2;s=X", "data_type": "double"},
                {"name": "b", "node_id": "ns=2;s=X", "data_type": "double"},
            ],
            "node_id ns=2;s=X used by a and b",
        ),
        (
            [
                {
                    "name": "a",
                    "node_id": "ns=2;s=X",
                    "data_type": "int32",
                    "example": True,
                }
            ],
            "example True does not fit int32",
        ),
    ],
)
def test_broken_opcua_profile_fails_with_its_message(
    points: list[dict[str, Any]], message: str
) -> None:
    data = {
        "name": "acme/ua",
        "version": 1,
        "description": "d",
        "follows": "f",
        "protocol": "opcua",
        "points": points,
    }
    with pytest.raises(ProfileError, match=re.escape(message)):
        parse_profile(yaml.safe_dump(data), source="ua.yaml")


def test_opcua_profile_refuses_modbus_settings() -> None:
    data = {
        "name": "acme/ua",
        "version": 1,
        "description": "d",
        "follows": "f",
        "protocol": "opcua",
        "unit_id": 3,
        "points": [{"name": "a", "node_id": "ns=2;s=A", "data_type": "double"}],
    }
    with pytest.raises(ProfileError, match="unit_id applies only to modbus profiles"):
        parse_profile(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: a\nname: b\n",
            "not valid YAML at line 2, column 1: found duplicate key 'name'",
        ),
        ("points: [1, 2\n", "not valid YAML at line 2"),
        ("- 1\n", "a profile is a mapping, got list"),
    ],
)
def test_unreadable_yaml_is_reported_with_its_position(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(message)):
        parse_profile(text, source="bad.yaml")


def test_unknown_library_name_lists_the_known_ones() -> None:
    with pytest.raises(
        ProfileError, match="no library profile 'acme/none'; known: .*cf-demo/pm3-meter"
    ):
        load_profile("acme/none")


def test_profile_defaults_fill_point_unit_and_order() -> None:
    profile = load_profile("cf-demo/plc-line")
    orders = {p.name: (p.unit_id, p.order) for p in profile.modbus_points}
    assert orders == {
        "crude_steel_t": (1, WordByteOrder.CDAB),
        "heat_count": (1, WordByteOrder.ABCD),
        "tap_temperature_degc": (1, WordByteOrder.ABCD),
        "line_running": (1, WordByteOrder.ABCD),
    }


def test_with_unit_id_moves_default_points_and_keeps_explicit_ones() -> None:
    data = _with("points.1.unit_id", 9)
    profile = DeviceProfile.model_validate(data).with_unit_id(4)
    assert [(p.name, p.unit_id) for p in profile.modbus_points] == [
        ("power_kw", 4),
        ("energy_kwh", 9),
        ("running", 4),
    ]


def test_zero_based_address_subtracts_the_base() -> None:
    profile = load_profile("cf-demo/gfc200")
    point = profile.point("volume_total_nm3")
    assert (point.address, profile.zero_based_address(point), point.width) == (
        101,
        100,
        4,
    )  # type: ignore[arg-type]


def _point(
    name: str,
    table: str,
    address: int,
    dtype: str = "uint16",
    unit: int = 1,
    **extra: Any,
) -> ModbusPoint:
    return ModbusPoint.model_validate(
        {
            "name": name,
            "table": table,
            "address": address,
            "data_type": dtype,
            "unit_id": unit,
            "order": "ABCD",
            **extra,
        }
    )


HR, IR, CO = "holding_register", "input_register", "coil"


@pytest.mark.parametrize(
    ("points", "options", "expected"),
    [
        pytest.param(
            [_point("a", HR, 0), _point("b", HR, 1, "float32"), _point("c", HR, 3)],
            {},
            [(1, HR, 0, 4, ["a", "b", "c"])],
            id="contiguous-joins",
        ),
        pytest.param(
            [_point("a", HR, 0), _point("b", HR, 5)],
            {},
            [(1, HR, 0, 1, ["a"]), (1, HR, 5, 1, ["b"])],
            id="gap-splits",
        ),
        pytest.param(
            [_point("a", HR, 0), _point("b", HR, 5)],
            {"max_gap": 4},
            [(1, HR, 0, 6, ["a", "b"])],
            id="gap-within-max-gap-joins",
        ),
        pytest.param(
            [_point("a", HR, 0), _point("b", HR, 1, unit=2)],
            {},
            [(1, HR, 0, 1, ["a"]), (2, HR, 1, 1, ["b"])],
            id="units-split",
        ),
        pytest.param(
            [_point("a", IR, 0), _point("b", HR, 1)],
            {},
            [(1, HR, 1, 1, ["b"]), (1, IR, 0, 1, ["a"])],
            id="tables-split",
        ),
        pytest.param(
            [_point(f"p{i}", HR, 2 * i, "float32") for i in range(70)],
            {},
            [
                (1, HR, 0, 124, [f"p{i}" for i in range(62)]),
                (1, HR, 124, 16, [f"p{i}" for i in range(62, 70)]),
            ],
            id="125-register-limit",
        ),
        pytest.param(
            [_point("a", HR, 0, "uint32"), _point("b", HR, 2, "uint32")],
            {"max_registers": 3},
            [(1, HR, 0, 2, ["a"]), (1, HR, 2, 2, ["b"])],
            id="custom-register-limit",
        ),
        pytest.param(
            [_point(f"c{i}", CO, i, "bool") for i in range(2001)],
            {},
            [
                (1, CO, 0, 2000, [f"c{i}" for i in range(2000)]),
                (1, CO, 2000, 1, ["c2000"]),
            ],
            id="2000-bit-limit",
        ),
        pytest.param(
            [_point("b", HR, 10), _point("a", HR, 9)],
            {"address_base": 1},
            [(1, HR, 8, 2, ["a", "b"])],
            id="sorted-and-zero-based",
        ),
    ],
)
def test_plan_blocks_coalesces_within_protocol_limits(
    points: list[ModbusPoint], options: dict[str, int], expected: list[tuple[Any, ...]]
) -> None:
    options = {"address_base": 0, **options}
    blocks = plan_blocks(points, **options)
    assert [
        (b.unit_id, str(b.table), b.start, b.count, [p.name for p in b.points])
        for b in blocks
    ] == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_registers": 126}, "max_registers must be 1..125, got 126"),
        ({"max_bits": 0}, "max_bits must be 1..2000, got 0"),
        ({"max_gap": -1}, "max_gap must be >= 0, got -1"),
    ],
)
def test_plan_blocks_refuses_limits_beyond_the_protocol(
    options: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_blocks([], address_base=0, **options)


def test_plan_blocks_refuses_a_point_wider_than_one_read() -> None:
    wide = _point("label", HR, 0, "string", count=20)
    with pytest.raises(
        ValueError, match="point label spans 20 addresses, more than one read of 10"
    ):
        plan_blocks([wide], address_base=0, max_registers=10)


@pytest.mark.parametrize(
    "name", [n for n in library_names() if load_profile(n).protocol is Protocol.MODBUS]
)
def test_decode_block_returns_the_documented_engineering_values(name: str) -> None:
    profile = load_profile(name)
    decoded: dict[str, Any] = {}
    for block in plan_blocks(profile.modbus_points, address_base=profile.address_base):
        decoded |= decode_block(block, _words_for(block))
    expected = {p.name: p.example for p in profile.modbus_points}
    assert {k: v for k, v in decoded.items() if not _same(v, expected.get(k))} == {}
    assert decoded.keys() == expected.keys()


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return actual == pytest.approx(expected, rel=1e-6)  # float32 keeps ~7 digits
    return actual == expected


def test_decode_block_ignores_bit_padding_and_rejects_short_reads() -> None:
    block = plan_blocks(
        [_point("a", CO, 0, "bool"), _point("b", CO, 1, "bool")], address_base=0
    )[0]
    assert decode_block(block, [True, False] + [False] * 6) == {"a": True, "b": False}
    with pytest.raises(
        ValueError, match="block coil 0\\+2 on unit 1 needs 2 bits, got 1"
    ):
        decode_block(block, [True])


def test_block_reports_function_code_and_fastest_poll() -> None:
    block = ReadBlock(
        1,
        ModbusTable.INPUT_REGISTER,
        0,
        2,
        (
            _point("a", IR, 0, poll_interval_s=5),
            _point("b", IR, 1, poll_interval_s=0.5),
        ),
    )
    assert (block.function_code, block.poll_interval_s) == (4, 0.5)


def _words_for(block: ReadBlock) -> list[int]:
    words = [0] * block.count
    for point in block.points:
        raw = from_engineering(
            point.example, point.scale, point.offset, point.data_type
        )  # type: ignore[arg-type]
        encoded = encode(
            raw, point.data_type, point.order or WordByteOrder.ABCD, count=point.count
        )
        offset = block.offset(point)
        words[offset : offset + len(encoded)] = encoded
    return words


def test_cli_validate_counts_the_library_profiles(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = profiles_main(["validate"])
    assert (code, capsys.readouterr().out) == (
        0,
        f"{len(library_names())} profiles valid\n",
    )


def test_cli_validate_recurses_and_lists_every_error_with_file_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "em1.yaml").write_text(yaml.safe_dump(VALID), encoding="utf-8")
    (tmp_path / "bad1.yaml").write_text(
        yaml.safe_dump(_with("points.0.count", 4)), encoding="utf-8"
    )
    (tmp_path / "bad2.yml").write_text(
        yaml.safe_dump(_with("version", 0)), encoding="utf-8"
    )
    code = profiles_main(["validate", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"{tmp_path / 'bad1.yaml'}: 1 problem" in err
        and "float32 needs 2 registers, got 4" in err
    )
    assert (
        f"{tmp_path / 'bad2.yml'}: 1 problem" in err
        and "version: Input should be greater than or equal to 1" in err
    )
    assert "2 of 3 profiles invalid" in err


def test_cli_validate_reports_an_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert profiles_main(["validate", str(tmp_path)]) == 1
    assert "no profiles (*.yaml, *.yml) found" in capsys.readouterr().err


def test_cli_show_prints_an_aligned_register_map(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert profiles_main(["show", "cf-demo/gfc200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("point "))
    row = next(line for line in lines if line.startswith("volume_total_nm3 "))
    assert (
        header.index("proto") == row.index("100 ")
        and "float64" in row
        and "CDAB" in row
    )


def test_cli_show_unknown_profile_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert profiles_main(["show", "acme/none"]) == 1
    assert "no library profile 'acme/none'" in capsys.readouterr().err


def test_cli_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert profiles_main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_example_type_must_match_data_type() -> None:
    with pytest.raises(ProfileError, match="example 'on' does not fit bool"):
        parse_profile(yaml.safe_dump(_with("points.2.example", "on")))


def test_bool_points_have_one_bit_width() -> None:
    profile = DeviceProfile.model_validate(VALID)
    assert [p.width for p in profile.modbus_points] == [2, 2, 1]
    assert profile.point("running").data_type is DataType.BOOL


def test_every_library_point_and_demo_device_passes_the_wire_identifier_pattern() -> None:
    from carbon_domain.schemas import LABEL_PATTERN, is_identifier
    from simulators.scenario import load_scenario, scenario_names

    points = {(name, p.name, p.unit) for name in library_names() for p in load_profile(name).points}
    devices = {d.id for s in scenario_names() for d in load_scenario(s).devices}
    assert points and devices
    assert [p for p in points if not is_identifier(p[1]) or not re.fullmatch(LABEL_PATTERN[1:-1], p[2])] == []
    assert [d for d in devices if not is_identifier(d)] == []


@pytest.mark.parametrize("unit", ["k\x00W", "kW\n", "u" * 33])
def test_a_profile_unit_with_a_control_character_or_too_long_is_refused(unit: str) -> None:
    assert parse_profile(yaml.safe_dump(_with("points.0.unit", "kW")))
    with pytest.raises(ProfileError, match=r"points\[0\] power_kw\.unit"):
        parse_profile(yaml.safe_dump(_with("points.0.unit", unit)))
