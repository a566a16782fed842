"""The consumer-lag gauge: highwater minus the committed offset per assigned partition, revoked ones dropped."""

from __future__ import annotations

from faust.types import TP
from prometheus_client import REGISTRY

from stream_jobs.metrics import sample_consumer_lag


class _Consumer:
    """What `sample_consumer_lag` reads of a faust consumer: assignment, highwaters, committed offsets, position."""

    def __init__(self, highwaters: dict[TP, int], committed: dict[TP, int | None], positions: dict[TP, int]) -> None:
        self._highwaters = highwaters
        self._committed_offset = committed
        self._positions = positions

    def assignment(self) -> set[TP]:
        return set(self._highwaters)

    async def highwaters(self, *partitions: TP) -> dict[TP, int]:
        return {tp: self._highwaters[tp] for tp in partitions}

    async def position(self, tp: TP) -> int | None:
        return self._positions.get(tp)


def _lag(topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value("carbonflow_stream_consumer_lag_records",
                                     {"topic": topic, "partition": str(partition)})


async def test_lag_is_highwater_minus_committed_and_the_position_stands_in_before_the_first_commit() -> None:
    p0, p1 = TP("lagtest.readings", 0), TP("lagtest.readings", 1)
    await sample_consumer_lag(_Consumer({p0: 120, p1: 50}, {p0: 100, p1: None}, {p1: 45}))
    assert (_lag("lagtest.readings", 0), _lag("lagtest.readings", 1)) == (20, 5)


async def test_a_revoked_partition_leaves_the_gauge() -> None:
    p0, p1 = TP("lagtest2.readings", 0), TP("lagtest2.readings", 1)
    await sample_consumer_lag(_Consumer({p0: 10, p1: 10}, {p0: 10, p1: 3}, {}))
    await sample_consumer_lag(_Consumer({p0: 12}, {p0: 10}, {}))
    assert (_lag("lagtest2.readings", 0), _lag("lagtest2.readings", 1)) == (2, None)
