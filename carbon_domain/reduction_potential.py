"""Reduction potential per process (issue 21): how much CO2 a works would save if each process ran at the
benchmark (advanced) intensity of the process benchmark library, and at its limit (admission) value.

potential = max(0, intensity − reference) × output, with intensity = process tCO2 / product output (t). A process
that emits but has no sourced indicator in the library gets no number: its status says so. A process with an
indicator but no recorded output cannot be compared either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ProcessPotential", "potential", "process_potentials"]

Status = Literal["compared", "no_output", "no_benchmark"]


@dataclass(frozen=True)
class ProcessPotential:
    """One process (or the whole works, process 'enterprise') against its indicator; numbers are None when the
    status is not 'compared' (the limit figures also when the indicator has no limit)."""

    process: str
    product: str | None
    route: str | None
    tco2: float
    output_t: float | None
    intensity: float | None
    benchmark: float | None
    limit: float | None
    source: str | None
    to_benchmark_tco2: float | None
    to_limit_tco2: float | None
    status: Status


def potential(intensity: float, reference: float, output: float) -> float:
    """t CO2 saved by bringing `intensity` (t/t) down to `reference` over `output` t; 0 when already at or below.

    Example: 1.9 t/t against 1.6 t/t over 1,000 t -> 300 t.
    """
    return max(0.0, intensity - reference) * output


def process_potentials(by_process: Mapping[str, float], gaps: Sequence[Mapping[str, Any]]) -> list[ProcessPotential]:
    """From the inventory's tCO2 per process and the benchmark-gap rows of the works' route (one per indicator,
    as carbon_domain.reports.benchmarks.benchmark_gaps gives them): a row per indicator, then one row per
    emitting process without any indicator. Sorted by the potential against the benchmark, largest first."""
    rows: list[ProcessPotential] = []
    for gap in gaps:
        output = float(gap["output_t"] or 0)
        benchmark, limit = float(gap["benchmark_tco2_per_t"]), gap["limit_tco2_per_t"]
        tco2 = float(gap["tco2"])
        if output <= 0:
            rows.append(ProcessPotential(gap["process"], gap["product"], gap["route"], tco2, None, None, benchmark,
                                         limit, gap["source"], None, None, "no_output"))
            continue
        intensity = tco2 / output
        rows.append(ProcessPotential(
            gap["process"], gap["product"], gap["route"], tco2, output, intensity, benchmark, limit, gap["source"],
            potential(intensity, benchmark, output),
            None if limit is None else potential(intensity, float(limit), output), "compared"))
    covered = {gap["process"] for gap in gaps}
    rows += [ProcessPotential(process, None, None, tco2, None, None, None, None, None, None, None, "no_benchmark")
             for process, tco2 in sorted(by_process.items()) if process not in covered and tco2 > 0]
    return sorted(rows, key=lambda r: (r.to_benchmark_tco2 is None, -(r.to_benchmark_tco2 or 0), r.process))
