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
    # Prefetch: the readings agent takes up to 4,000 records at a time (stream_jobs/agents.py) and stores them
    # before it asks for more. With faust's default buffer of 4,096 records the fetcher could hardly fetch the
    # next take meanwhile, so every take began by waiting on Kafka (the pipeline bench swung between 83,000 and
    # 118,000 readings/s with idle cores); four takes' worth keeps it fed (121,000-129,000/s). Offsets are still
    # committed only for records that were stored.
    stream_buffer_maxsize=16384,
    consumer_max_fetch_size=4 * 1024**2,  # per partition and fetch: about 1,500 records of a 50-point device
)
