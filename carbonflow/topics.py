"""Names of MQTT and Kafka topics, in one place."""

from __future__ import annotations

__all__ = ["MQTT_ROOT", "mqtt_data_filter", "kafka_readings", "kafka_dead_letters", "READINGS_PARTITIONS",
           "HEALTH_KINDS", "mqtt_health_filters", "split_gateway_topic", "kafka_gateway_health", "gateway_topics"]

MQTT_ROOT = "carbonflow/v1"
READINGS_PARTITIONS = 4


def mqtt_data_filter(root: str = MQTT_ROOT, shared_group: str | None = None) -> str:
    """Subscription for every gateway's data topic, as a shared subscription when a group is given."""
    topic = f"{root}/+/data"
    return f"$share/{shared_group}/{topic}" if shared_group else topic


HEALTH_KINDS = ("status", "events")
_GATEWAY_KINDS = ("data", *HEALTH_KINDS)


def mqtt_health_filters(root: str = MQTT_ROOT, shared_group: str | None = None) -> list[str]:
    """Subscriptions for every gateway's status and events topics (shared when a group is given)."""
    topics = [f"{root}/+/{kind}" for kind in HEALTH_KINDS]
    return [f"$share/{shared_group}/{t}" for t in topics] if shared_group else topics


def gateway_topics(root: str, gateway: str) -> list[str]:
    """The exact data, status and events topics of one gateway (what a partitioned ingest worker subscribes to)."""
    return [f"{root}/{gateway}/{kind}" for kind in _GATEWAY_KINDS]


def split_gateway_topic(topic: str, root: str = MQTT_ROOT) -> tuple[str, str] | None:
    """(gateway, kind) of `<root>/<gateway>/<kind>`, kind one of data, status, events; None otherwise."""
    prefix = root + "/"
    if not topic.startswith(prefix):
        return None
    gateway, _, kind = topic[len(prefix):].rpartition("/")
    if not gateway or "/" in gateway or kind not in _GATEWAY_KINDS:
        return None
    return gateway, kind


def kafka_readings(prefix: str = "carbonflow") -> str:
    return f"{prefix}.readings"


def kafka_dead_letters(prefix: str = "carbonflow") -> str:
    return f"{prefix}.dead-letters"


def kafka_gateway_health(prefix: str = "carbonflow") -> str:
    return f"{prefix}.gateway-health"
