"""The Mosquitto ACL reader the amqtt fallback broker applies: the generated files mean what Mosquitto makes of them."""

from __future__ import annotations

import pytest

from carbonflow.embedded.mqtt_acl import AclError, MosquittoAcl, filters_overlap, topic_matches

ROOT = "carbonflow/v1"
DEFAULT = MosquittoAcl.parse(
    f"# comment\npattern write {ROOT}/%u/#\npattern read {ROOT}/%u/cmd/#\n"
    f"user svc-ingest\ntopic read {ROOT}/#\ntopic read $share/#\n"
)
REGISTRY = MosquittoAcl.parse(
    f"user gw-a\ntopic write {ROOT}/gw-a/#\ntopic read {ROOT}/gw-a/cmd/#\n"
    f"user svc-ingest\ntopic read {ROOT}/#\n"
)


@pytest.mark.parametrize(("topic", "topic_filter", "expected"), [
    ("a/b/c", "a/b/c", True), ("a/b/c", "a/+/c", True), ("a/b/c", "a/#", True), ("a", "a/#", True),
    ("a/b", "a/b/c", False), ("a/b/c", "a/b", False), ("a/x/c", "a/b/c", False), ("a/b/c", "+/+", False),
])
def test_topic_matches_filter_by_mqtt_rules(topic: str, topic_filter: str, expected: bool) -> None:
    assert topic_matches(topic, topic_filter) is expected


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("a/#", "a/b/cmd/#", True), ("a/+/data", "a/b/#", True), ("a/b/cmd/#", "a/c/cmd/#", False),
    ("a/b", "a/b/c", False), ("#", "x/y", True), ("a/+", "a/b", True),
])
def test_filters_overlap_when_a_topic_matches_both(first: str, second: str, expected: bool) -> None:
    assert filters_overlap(first, second) is expected


@pytest.mark.parametrize(("acl", "user", "topic", "expected"), [
    (DEFAULT, "gw-a", f"{ROOT}/gw-a/data", True),
    (DEFAULT, "gw-a", f"{ROOT}/gw-b/data", False),
    (DEFAULT, "svc-ingest", f"{ROOT}/gw-a/data", False),  # ingest only reads
    (DEFAULT, "gw/+", f"{ROOT}/gw/+/data", False),  # a CN with wildcards never widens a pattern
    (DEFAULT, None, f"{ROOT}/gw-a/data", False),
    (REGISTRY, "gw-a", f"{ROOT}/gw-a/status", True),
    (REGISTRY, "gw-b", f"{ROOT}/gw-b/data", False),  # not in the registry: no rule at all
])
def test_publish_is_allowed_only_below_the_clients_own_id(acl: MosquittoAcl, user: str | None, topic: str,
                                                          expected: bool) -> None:
    assert acl.may_publish(user, "client-1", topic) is expected


@pytest.mark.parametrize(("user", "topic_filter", "expected"), [
    ("gw-a", f"{ROOT}/gw-a/cmd/#", True),
    ("gw-a", f"{ROOT}/gw-b/cmd/#", False),
    ("gw-a", f"{ROOT}/gw-b/data", False),
    ("gw-a", f"{ROOT}/#", True),  # granted, but only gw-a's commands are delivered (below)
    ("svc-ingest", f"{ROOT}/+/data", True),
    ("svc-ingest", f"$share/ingest/{ROOT}/+/data", True),
])
def test_subscription_is_refused_when_it_could_deliver_nothing_readable(user: str, topic_filter: str,
                                                                        expected: bool) -> None:
    assert DEFAULT.may_subscribe(user, "client-1", topic_filter) is expected


def test_delivery_follows_read_rules_of_the_receiving_client() -> None:
    assert DEFAULT.may_receive("gw-a", "c", f"{ROOT}/gw-a/cmd/restart")
    assert not DEFAULT.may_receive("gw-a", "c", f"{ROOT}/gw-b/cmd/restart")
    assert not DEFAULT.may_receive("gw-a", "c", f"{ROOT}/gw-b/data")
    assert DEFAULT.may_receive("svc-ingest", "c", f"{ROOT}/gw-b/data")


def test_a_matching_deny_wins_over_a_grant() -> None:
    acl = MosquittoAcl.parse("user gw-a\ntopic readwrite a/#\ntopic deny a/secret\n")
    assert acl.may_publish("gw-a", "c", "a/open") and not acl.may_publish("gw-a", "c", "a/secret")


def test_a_line_it_does_not_understand_is_refused_with_its_number() -> None:
    with pytest.raises(AclError, match=r"mosquitto.acl line 2: 'auth_plugin x' is not a user, topic or pattern"):
        MosquittoAcl.parse("user gw-a\nauth_plugin x\n", source="mosquitto.acl")
