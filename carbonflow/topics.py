"""Names of MQTT and Kafka topics, in one place."""

from __future__ import annotations

__all__ = ["MQTT_ROOT", "mqtt_data_filter", "gateway_from_topic", "kafka_readings", "kafka_dead_letters", "READINGS_PARTITIONS"]

MQTT_ROOT = "carbonflow/v1"
READINGS_PARTITIONS = 4


def mqtt_data_filter(root: str = MQTT_ROOT, shared_group: str | None = None) -> str:
    """Subscription for every gateway's data topic, as a shared subscription when a group is given."""
    topic = f"{root}/+/data"
    return f"$share/{shared_group}/{topic}" if shared_group else topic


def gateway_from_topic(topic: str, root: str = MQTT_ROOT) -> str | None:
    """The gateway id in `<root>/<gateway>/data`, or None for any other topic."""
    prefix = root + "/"
    if not topic.startswith(prefix) or not topic.endswith("/data"):
        return None
    middle = topic[len(prefix) : -len("/data")]
    return middle if middle and "/" not in middle else None


def kafka_readings(prefix: str = "carbonflow") -> str:
    return f"{prefix}.readings"


def kafka_dead_letters(prefix: str = "carbonflow") -> str:
    return f"{prefix}.dead-letters"
