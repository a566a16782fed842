"""INGEST_PARTITION: parsing and refusal at start-up, the stable gateway hash, and keeping subscriptions in step."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ingest.bridge import bridge_config_from_env
from ingest.partition import (
    Partition,
    PartitionError,
    PartitionSubscriptions,
    gateway_partition,
    parse_partition,
)

_BASE_ENV = {"MQTT_URL": "mqtts://127.0.0.1:1", "KAFKA_BOOTSTRAP": "127.0.0.1:1",
             "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2/2", "i must be between 0 and N-1 = 1"),
        ("5/3", "i must be between 0 and N-1 = 2"),
        ("0/0", "N must be between 1 and 1024, got 0"),
        ("0/5000", "N must be between 1 and 1024, got 5000"),
        ("-1/2", "expected i/N with whole numbers"),
        ("1", "expected i/N with whole numbers"),
        ("a/b", "expected i/N with whole numbers"),
        ("1/2/3", "expected i/N with whole numbers"),
        ("0.5/2", "expected i/N with whole numbers"),
    ],
)
def test_bad_partition_values_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(PartitionError, match=message):
        parse_partition(text)


@pytest.mark.parametrize(("text", "expected"), [("0/1", Partition(0, 1)), ("1/2", Partition(1, 2)),
                                                 (" 3/4 ", Partition(3, 4))])
def test_good_partition_values_parse(text: str, expected: Partition) -> None:
    assert parse_partition(text) == expected


@pytest.mark.parametrize(
    ("gateway", "count", "partition"),
    # crc32 of the UTF-8 id: pinned, so every worker, process and Python version agrees on the owner
    [("gw-a", 2, 0), ("gw-a", 7, 6), ("gw-plant-0042", 7, 2), ("Ünïcode-gw", 3, 1), ("gw-part-4", 2, 1)],
)
def test_gateway_owner_is_the_stable_crc32_partition(gateway: str, count: int, partition: int) -> None:
    assert gateway_partition(gateway, count) == partition


def test_gateway_owner_does_not_depend_on_python_hash_seed() -> None:
    code = "from ingest.partition import gateway_partition as p; print([p(f'gw-{k}', 5) for k in range(20)])"
    answers = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                              capture_output=True, text=True, check=True).stdout for seed in ("1", "2", "3")}
    assert len(answers) == 1


def test_every_gateway_has_exactly_one_owner_among_the_workers() -> None:
    gateways = [f"gw-{k}" for k in range(200)]
    owners = [[i for i in range(4) if Partition(i, 4).owns(g)] for g in gateways]
    assert all(len(o) == 1 for o in owners)
    assert {o[0] for o in owners} == {0, 1, 2, 3}


def test_partition_gets_its_own_client_id_including_the_worker_count() -> None:
    config = bridge_config_from_env({**_BASE_ENV, "INGEST_PARTITION": "1/3", "INGEST_CLIENT_ID": "plant-ingest"})
    assert (config.partition, config.client_id) == (Partition(1, 3), "plant-ingest-p1of3")


def test_unpartitioned_worker_keeps_its_client_id() -> None:
    config = bridge_config_from_env({**_BASE_ENV, "INGEST_CLIENT_ID": "plant-ingest"})
    assert (config.partition, config.client_id) == (None, "plant-ingest")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INGEST_PARTITION": "2/2"}, "INGEST_PARTITION='2/2': i must be between 0 and N-1 = 1"),
        ({"INGEST_PARTITION": "x"}, "INGEST_PARTITION='x': expected i/N"),
        ({"INGEST_PARTITION": "0/2", "INGEST_SHARED_GROUP": "g"}, "exclude each other"),
        ({"INGEST_PARTITION": "0/2", "DATABASE_URL": ""}, "INGEST_PARTITION needs DATABASE_URL"),
        ({"INGEST_REGISTRY_REFRESH_S": "0"}, "INGEST_REGISTRY_REFRESH_S must be seconds between 0.5 and 3600"),
        ({"INGEST_REGISTRY_REFRESH_S": "soon"}, "INGEST_REGISTRY_REFRESH_S must be seconds"),
    ],
)
def test_bad_ingest_environment_is_refused_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        bridge_config_from_env({**_BASE_ENV, **env})


def test_carbonflow_ingest_exits_with_the_partition_error_before_connecting() -> None:
    env = {**os.environ, **_BASE_ENV, "INGEST_PARTITION": "3/3"}
    result = subprocess.run([sys.executable, "-m", "carbonflow.cli", "ingest"], env=env, capture_output=True, check=False,
                            text=True, timeout=60)
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (
        1, "ingest: INGEST_PARTITION='3/3': i must be between 0 and N-1 = 2 (workers count from 0), got 3")


def test_subscriptions_follow_the_registry_for_owned_gateways_only() -> None:
    subs = PartitionSubscriptions(Partition(1, 2), "cf/v1")
    subs.want({"gw-part-0", "gw-part-4", "gw-part-5"})  # gw-part-4 and -5 belong to partition 1
    add, remove = subs.changes(reconnected=False)
    assert (add, remove) == (["gw-part-4", "gw-part-5"], [])
    subs.applied(add, remove)
    subs.want({"gw-part-0", "gw-part-5", "gw-part-6"})  # gw-part-4 revoked, gw-part-6 registered
    assert subs.changes(reconnected=False) == (["gw-part-6"], ["gw-part-4"])


def test_reconnect_subscribes_every_wanted_gateway_again() -> None:
    subs = PartitionSubscriptions(Partition(1, 2), "cf/v1")
    subs.want({"gw-part-4", "gw-part-5"})
    subs.applied(*subs.changes(reconnected=False))
    assert subs.changes(reconnected=True) == (["gw-part-4", "gw-part-5"], [])


def test_subscriptions_are_the_exact_topics_of_each_gateway() -> None:
    subs = PartitionSubscriptions(Partition(0, 1), "cf/v1")
    assert subs.topics(["gw-a"]) == ["cf/v1/gw-a/data", "cf/v1/gw-a/status", "cf/v1/gw-a/events"]
