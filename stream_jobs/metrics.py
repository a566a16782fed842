"""The stream worker's Prometheus metrics, bumped once per take, chunk or timer run (never per reading).

Served by `stream_jobs.worker` on `CARBONFLOW_STREAM_METRICS_PORT` (carbonflow/metrics.py).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["ALARMS", "CONSUMER_LAG", "READINGS_IN", "READINGS_OUT", "STORE_SECONDS", "sample_consumer_lag"]

READINGS_IN = Counter("carbonflow_stream_readings_received_total", "Readings in the Kafka records the worker decoded.")
READINGS_OUT = Counter("carbonflow_stream_readings_stored_total", "Readings whose batch the sink wrote and committed.")
# one observation per chunk a lane stores (up to 800 device records): from 1 ms to the minutes of a stuck database
STORE_SECONDS = Histogram("carbonflow_stream_store_seconds", "Time the sink took to write one chunk of records.",
                          buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
ALARMS = Counter("carbonflow_stream_alarms_total", "Alarms the alarm evaluation raised and cleared.", ["action"])
for _action in ("raised", "cleared"):
    ALARMS.labels(_action)  # exported as 0 from the start, so a rate() over the first evaluation is right
CONSUMER_LAG = Gauge("carbonflow_stream_consumer_lag_records",
                     "Records in a partition not yet committed by this worker (highwater minus committed offset).",
                     ["topic", "partition"])


async def sample_consumer_lag(consumer: Any) -> None:
    """Set the lag gauge of every partition assigned to `consumer` (a faust consumer), dropping revoked ones.

    The committed offset is what a restart resumes from, so the lag counts records fetched but not yet
    stored too; before the first commit the fetch position stands in for it.
    """
    assigned = sorted(consumer.assignment())
    highwaters = await consumer.highwaters(*assigned) if assigned else {}
    committed = getattr(consumer, "_committed_offset", {})  # faust keeps it privately; there is no public getter
    seen = set()
    for tp in assigned:
        high = highwaters.get(tp)
        if high is None:
            continue
        done = committed.get(tp)
        if done is None:
            done = await consumer.position(tp)
        CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - (done or 0)))
        seen.add((tp.topic, str(tp.partition)))
    for labels in [key for key in _label_sets() if key not in seen]:
        CONSUMER_LAG.remove(*labels)


def _label_sets() -> list[tuple[str, str]]:
    return [(s.labels["topic"], s.labels["partition"]) for family in CONSUMER_LAG.collect() for s in family.samples]
