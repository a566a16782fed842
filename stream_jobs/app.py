"""The faust application of the stream jobs, configured from the environment."""

from __future__ import annotations

import os

import faust

from carbonflow.topics import READINGS_PARTITIONS

__all__ = ["app", "database_url"]


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("stream worker: set DATABASE_URL (postgresql://...)")
    return url


app = faust.App(
    os.environ.get("CARBONFLOW_STREAM_APP_ID", "carbonflow-stream"),
    broker=f"kafka://{os.environ.get('KAFKA_BOOTSTRAP', '127.0.0.1:9092')}",
    store="memory://",
    topic_partitions=READINGS_PARTITIONS,
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    broker_rebalance_timeout=5,
    broker_session_timeout=10,
    broker_heartbeat_interval=1,
    stream_wait_empty=False,
)
