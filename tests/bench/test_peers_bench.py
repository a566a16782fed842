"""The peers bench compares like with like: ThingsBoard's Modbus connector reads exactly the registers the agent reads,
at the same interval, and the collector counts each value of either gateway once."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import peers_bench


def _args(**overrides: float) -> argparse.Namespace:
    return argparse.Namespace(**{"devices": 3, "points": 100, "poll_interval": 0.1, **overrides})


def test_thingsboard_reads_the_agents_registers_at_the_agents_interval(tmp_path: Path) -> None:
    args = _args()
    files = peers_bench.tb_configuration(args, modbus_port=5020, broker_port=1883, data=tmp_path)
    slaves = files["modbus.json"]["master"]["slaves"]
    profile = yaml.safe_load(peers_bench._flat_profile(tmp_path, args.points).read_text())
    agent = yaml.safe_load(peers_bench._agent_config(tmp_path, tmp_path / "flat.yaml", args, 5020, 1883).read_text())

    assert [s["unitId"] for s in slaves] == [d["unit_id"] for d in agent["devices"]] == [1, 2, 3]
    assert {s["pollPeriod"] for s in slaves} == {100} and {d["poll_interval_s"] for d in agent["devices"]} == {0.1}
    last = max(p["address"] for p in profile["points"]) + 1  # float32: two registers per point
    (series,) = slaves[0]["timeseries"]
    assert series["address"] == f"0-{last}" and series["functionCode"] == 4 and series["type"] == "32float"
    assert all(p["table"] == "input_register" and p["data_type"] == "float32" for p in profile["points"])
    gateway = files["tb_gateway.json"]["thingsboard"]
    assert (gateway["host"], gateway["port"], gateway["qos"]) == ("127.0.0.1", 1883, 1)
    assert files["tb_gateway.json"]["storage"]["type"] == "sqlite"  # durable, as the agent's spool is
    json.dumps(files)  # written as JSON files


def test_thingsboard_telemetry_counts_every_value_of_every_entry() -> None:
    payload = {"dev00": [{"ts": 1000, "values": {"p_0": 1.0, "p_2": 2.0}}, {"ts": 1100, "values": {"p_0": 1.5}}],
               "dev01": {"ts": 1000, "values": {"p_0": 3.0}}}
    assert sorted(peers_bench._tb_keys(payload)) == [
        ("dev00", "p_0", 1000), ("dev00", "p_0", 1100), ("dev00", "p_2", 1000), ("dev01", "p_0", 1000)]


def test_a_reading_received_twice_counts_once_and_as_a_duplicate() -> None:
    received = peers_bench.Received()
    envelope = {"devices": [{"device": "dev00", "point": ["p000", "p001"], "source_us": [1_000_000, 1_000_000]}]}
    received.add(peers_bench._agent_keys(envelope))
    received.add(peers_bench._agent_keys(envelope))
    assert len(received.keys) == 2 and received.duplicates == 2
    assert received.stamped_between(1000, 1001) == 2 and received.stamped_between(1001, 2000) == 0


def test_each_device_gets_its_own_port_in_both_gateways(tmp_path: Path) -> None:
    args = _args()
    ports = [15020, 15021, 15022]
    files = peers_bench.tb_configuration(args, ports, broker_port=1883, data=tmp_path, storage="memory")
    agent = yaml.safe_load(peers_bench._agent_config(tmp_path, tmp_path / "flat.yaml", args, ports, 1883).read_text())
    assert [s["port"] for s in files["modbus.json"]["master"]["slaves"]] == [d["port"] for d in agent["devices"]] == ports
    assert files["tb_gateway.json"]["storage"]["type"] == "memory"


def test_while_sweeping_readings_are_counted_without_keeping_their_keys() -> None:
    received = peers_bench.Received()
    received.reset(keep_keys=False)
    received.count(3)
    received.add([("dev00", "p_0", 1000)] * 2)
    assert received.between(0, float("inf")) == 5 and not received.keys and received.duplicates == 0
    assert peers_bench._tb_count({"dev00": [{"ts": 1, "values": {"a": 1, "b": 2}}], "dev01": {"ts": 1, "values": {"a": 1}}}) == 3
