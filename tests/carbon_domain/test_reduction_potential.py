"""Reduction potential per process (carbon_domain.reduction_potential): cases computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from carbon_domain.reduction_potential import potential, process_potentials


@pytest.mark.parametrize(("intensity", "reference", "output", "expected"), [
    (1.9, 1.6, 1_000, 300.0),  # 0.3 t/t above over 1,000 t
    (1.6, 1.6, 1_000, 0.0),  # at the reference
    (1.2, 1.6, 1_000, 0.0),  # below it: nothing to gain, never negative
    (0.5, 0.0, 10, 5.0),
])
def test_potential_is_the_intensity_above_the_reference_times_the_output(
        intensity: float, reference: float, output: float, expected: float) -> None:
    assert potential(intensity, reference, output) == pytest.approx(expected)


def _gap(process: str, tco2: float, output: float, benchmark: float, limit: float | None) -> dict[str, Any]:
    return {"process": process, "product": "crude_steel", "route": "bf-bof", "tco2": tco2, "output_t": output,
            "benchmark_tco2_per_t": benchmark, "limit_tco2_per_t": limit, "source": "test values"}


def test_each_process_is_set_against_its_benchmark_and_limit_and_gaps_without_a_value_say_so() -> None:
    rows = process_potentials(
        {"steelmaking": 1_900.0, "sintering": 400.0, "rolling": 100.0, "auxiliary": 0.0},
        [_gap("steelmaking", 1_900.0, 1_000.0, 1.6, 1.8), _gap("sintering", 400.0, 0.0, 0.2, None)])
    got = [(r.process, r.status, r.to_benchmark_tco2 and round(r.to_benchmark_tco2, 6),
            r.to_limit_tco2 and round(r.to_limit_tco2, 6)) for r in rows]
    # steelmaking 1.9 t/t: 300 t to the benchmark 1.6, 100 t to the limit 1.8; sintering has no output;
    # rolling emits without an indicator; auxiliary emits nothing and is left out
    assert got == [("steelmaking", "compared", 300.0, 100.0), ("rolling", "no_benchmark", None, None),
                   ("sintering", "no_output", None, None)]


def test_an_indicator_without_a_limit_gives_no_limit_potential() -> None:
    [row] = process_potentials({"rolling": 90.0}, [_gap("rolling", 90.0, 1_000.0, 0.05, None)])
    assert (round(row.to_benchmark_tco2 or 0, 6), row.to_limit_tco2, row.intensity) == (40.0, None, 0.09)
