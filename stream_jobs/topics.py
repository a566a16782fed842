"""Kafka topics the stream jobs read."""

from __future__ import annotations

import os

from carbonflow.topics import READINGS_PARTITIONS, kafka_dead_letters, kafka_gateway_health, kafka_readings
from stream_jobs.app import app

__all__ = ["readings_topic", "dead_letters_topic", "gateway_health_topic"]

_PREFIX = os.environ.get("CARBONFLOW_TOPIC_PREFIX", "carbonflow")
readings_topic = app.topic(
    kafka_readings(_PREFIX), key_type=bytes, value_type=bytes, value_serializer="raw", partitions=READINGS_PARTITIONS
)
dead_letters_topic = app.topic(kafka_dead_letters(_PREFIX), value_type=bytes, value_serializer="raw", partitions=1)
gateway_health_topic = app.topic(kafka_gateway_health(_PREFIX), key_type=bytes, value_type=bytes, value_serializer="raw",
                                 partitions=1)
