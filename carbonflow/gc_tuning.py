"""Garbage-collector settings for the pipeline's long-running workers (ingest, stream).

A worker holds a batch of up to 100,000 readings as pydantic models at once. With CPython's default
threshold (a young collection every 700 allocations, a full one every 100 young ones) the collector kept
walking those live models and the imported libraries: it took about as long as validating them
(measured: 6.4 us per reading with the defaults, 3.3 us with the collector off). Freezing what exists at
start-up takes the libraries out of every collection, and a larger young generation makes collections rarer.
Reference counting still frees everything that is not in a cycle at once, so memory use hardly changes.
"""

from __future__ import annotations

import gc

__all__ = ["tune_gc_for_batches"]

_YOUNG = 50_000
_MIDDLE = 20
_OLD = 100


def tune_gc_for_batches() -> None:
    """Freeze the start-up heap and collect less often; call once, after imports."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG, _MIDDLE, _OLD)
