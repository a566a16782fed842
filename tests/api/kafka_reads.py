"""Read back what the ingest endpoint put on a Kafka topic, for tests that check which batches got through."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

from carbon_domain.schemas import DeviceColumns
from carbon_domain.wire import decode_device_record

__all__ = ["batches_on"]


async def batches_on(bootstrap: str, topic: str, *, wait_for_one: bool = False) -> list[DeviceColumns]:
    """The decoded batches on `topic`, read from the start until one idle poll.

    With `wait_for_one`, idle polls before the first batch do not end the read: a test that expects something
    on the topic then does not race the producer (30 s at the most either way).
    """
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        seen: list[DeviceColumns] = []
        async with asyncio.timeout(30):
            while True:
                batches = await consumer.getmany(timeout_ms=1000)
                if not batches and (seen or not wait_for_one):
                    return seen
                seen += [decode_device_record(r.value) for rs in batches.values() for r in rs]
    finally:
        await consumer.stop()
