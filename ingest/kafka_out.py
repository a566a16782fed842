"""Hand validated envelopes to Kafka: one record per device batch, keyed by device so its readings stay ordered."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiokafka import AIOKafkaProducer

from carbon_domain.schemas import ColumnEnvelope, DeviceColumns, Envelope
from carbon_domain.wire import encode_device_record
from carbonflow.topics import kafka_readings
from ingest.validation import split_by_device

__all__ = ["make_producer", "send_envelope", "send_records"]


def make_producer(bootstrap: str) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica and takes large batches."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=1024 * 1024,
                            max_request_size=8 * 1024 * 1024)


async def send_envelope(producer: AIOKafkaProducer, envelope: Envelope | ColumnEnvelope, received: datetime,
                        prefix: str) -> list[asyncio.Future]:
    """Append the envelope's device records to the producer; returns their delivery futures."""
    return await send_records(producer, split_by_device(envelope, received), prefix)


async def send_records(producer: AIOKafkaProducer, records: list[DeviceColumns], prefix: str) -> list[asyncio.Future]:
    """Append device records (an envelope's, split by device) to the producer; returns their delivery futures."""
    topic = kafka_readings(prefix)
    return [await producer.send(topic, encode_device_record(columns), key=columns.device.encode())
            for columns in records]
