"""Partitioned ingest: worker i of N owns the registered gateways whose crc32 mod N is i.

Each worker subscribes, with its own persistent session, to the exact topics of
the gateways it owns, so the broker queues a gateway's batches for that worker
while it is down (Mosquitto 2.0 forgets `$share/...` subscriptions when it
restarts, but keeps plain ones; see docs/ingest.md "Scaling out").
"""

from __future__ import annotations

import re
import threading
import zlib
from dataclasses import dataclass

from carbonflow.topics import gateway_topics

__all__ = ["Partition", "PartitionError", "PartitionSubscriptions", "gateway_partition", "parse_partition"]

_FORM = re.compile(r"(\d+)/(\d+)")
_MAX_COUNT = 1024  # far beyond any sensible number of ingest workers; catches typos like 0/20000


class PartitionError(ValueError):
    """An INGEST_PARTITION value that cannot be used; the message says why and what would."""


def gateway_partition(gateway: str, count: int) -> int:
    """The partition owning `gateway`: crc32 of its UTF-8 id mod `count`, the same in every process and version."""
    return zlib.crc32(gateway.encode("utf-8")) % count


@dataclass(frozen=True)
class Partition:
    index: int
    count: int

    def owns(self, gateway: str) -> bool:
        return gateway_partition(gateway, self.count) == self.index

    def client_id(self, base: str) -> str:
        """The worker's fixed MQTT client id; N is part of it, so changing N starts fresh sessions."""
        return f"{base}-p{self.index}of{self.count}"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_partition(text: str) -> Partition:
    """Parse `i/N` (0 <= i < N); e.g. `0/2` and `1/2` are the two halves."""
    match = _FORM.fullmatch(text.strip())
    if match is None:
        raise PartitionError(f"expected i/N with whole numbers, e.g. 0/2 for the first of two workers; got {text!r}")
    index, count = int(match[1]), int(match[2])
    if not 1 <= count <= _MAX_COUNT:
        raise PartitionError(f"N must be between 1 and {_MAX_COUNT}, got {count}")
    if index >= count:
        raise PartitionError(f"i must be between 0 and N-1 = {count - 1} (workers count from 0), got {index}")
    return Partition(index, count)


class PartitionSubscriptions:
    """Which gateways' topics this worker wants and which its broker session has, kept in step.

    Called from paho's network thread (on connect) and from the registry reload
    (a worker thread), hence the lock.
    """

    def __init__(self, partition: Partition, root: str) -> None:
        self.partition = partition
        self._root = root
        self._lock = threading.Lock()
        self._wanted: frozenset[str] = frozenset()
        self._subscribed: frozenset[str] = frozenset()

    def want(self, active: set[str] | frozenset[str]) -> None:
        """Set the registry's active gateways; this worker wants the ones its partition owns."""
        with self._lock:
            self._wanted = frozenset(g for g in active if self.partition.owns(g))

    def changes(self, *, reconnected: bool) -> tuple[list[str], list[str]]:
        """(gateways to subscribe, gateways to unsubscribe) to bring the session to what is wanted.

        After a reconnect every wanted gateway is subscribed again: the broker may
        have lost the session (expired, or its persistence file deleted), and a
        repeated SUBSCRIBE is harmless.
        """
        with self._lock:
            have = frozenset() if reconnected else self._subscribed
            add = sorted(self._wanted - have)
            remove = sorted(self._subscribed - self._wanted)
            return add, remove

    def applied(self, add: list[str], remove: list[str]) -> None:
        """Record that the broker was sent these (un)subscriptions."""
        with self._lock:
            self._subscribed = (self._subscribed | set(add)) - set(remove)

    def topics(self, gateways: list[str]) -> list[str]:
        return [t for g in gateways for t in gateway_topics(self._root, g)]
