"""The API's Kafka producer for HTTP ingest: started on first use, reused, stopped with the app.

Failures become `api.errors.Unavailable` with a message saying what to fix; after a failed start the next
request tries again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from api.errors import Unavailable
from carbon_domain.schemas import ColumnEnvelope, DeviceColumns, Envelope
from ingest.kafka_out import make_producer, send_records
from ingest.validation import split_by_device

__all__ = ["KafkaLink"]

_START_TIMEOUT_S = 10.0
_DELIVERY_TIMEOUT_S = 30.0


class KafkaLink:
    """One lazily started producer for `bootstrap` (None: HTTP ingest is not configured)."""

    def __init__(self, bootstrap: str | None, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        if not self.bootstrap:
            raise Unavailable("HTTP ingest is not configured: set KAFKA_BOOTSTRAP (host:port of Kafka) for the API")
        async with self._lock:
            if self._producer is None:
                producer = make_producer(self.bootstrap)
                try:
                    await asyncio.wait_for(producer.start(), _START_TIMEOUT_S)
                except (KafkaError, OSError, TimeoutError) as exc:
                    await producer.stop()
                    raise Unavailable(f"Kafka at {self.bootstrap} is unreachable: {exc or type(exc).__name__}") from exc
                self._producer = producer
            return self._producer

    async def deliver(self, envelope: Envelope | ColumnEnvelope, received: datetime) -> int:
        """Send the envelope's device batches and wait until Kafka acknowledged all of them: the readings sent."""
        return await self.deliver_records(split_by_device(envelope, received))

    async def deliver_records(self, records: list[DeviceColumns]) -> int:
        """Send device batches (of one envelope) and wait until Kafka acknowledged all of them: the readings sent."""
        producer = await self._started()
        try:
            futures = await asyncio.wait_for(send_records(producer, records, self.prefix), _DELIVERY_TIMEOUT_S)
            await asyncio.wait_for(asyncio.gather(*futures), _DELIVERY_TIMEOUT_S)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise Unavailable(f"Kafka at {self.bootstrap} did not acknowledge the batch: "
                              f"{exc or type(exc).__name__}") from exc
        return sum(len(r.seq) for r in records)

    async def close(self) -> None:
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
