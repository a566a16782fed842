"""Process intensity against benchmark and limit values, and the CO2 a process would save at benchmark.

For each indicator (process, route, product) that applies to the enterprise's route::

    intensity           = process tCO2 / product output (t)
    gap_vs_benchmark    = intensity − benchmark          (tCO2/t; > 0: above the benchmark)
    gap_vs_limit        = intensity − limit              (> 0: the process exceeds the limit)
    reduction_potential = max(0, gap_vs_benchmark) × output   (tCO2 saved at benchmark intensity)

Process "enterprise" stands for the whole works: its tCO2 is the inventory total and its output the
product summed over every process (e.g. tCO2 per tonne of crude steel).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ANY_ROUTE", "ENTERPRISE", "benchmark_gaps", "infer_route"]

ANY_ROUTE = "any"
ENTERPRISE = "enterprise"


def infer_route(processes: Iterable[str]) -> str | None:
    """The steel route an inventory's processes suggest: bf-bof with ironmaking or a converter, eaf with
    only electric furnaces, None otherwise."""
    names = set(processes)
    if names & {"ironmaking", "steelmaking_bof"}:
        return "bf-bof"
    if "steelmaking_eaf" in names:
        return "eaf"
    return None


def benchmark_gaps(document: Mapping[str, Any], indicators: Iterable[Mapping[str, Any]],
                   route: str | None) -> list[dict[str, Any]]:
    """One row per indicator of `route` (or route 'any') against the inventory `document`."""
    by_process = {row["process"]: row["tco2"] for row in document["by_process"]}
    outputs: dict[tuple[str, str], float] = {}
    for output in document["outputs"]:
        outputs[output["process"], output["product"]] = output["quantity_t"]
    rows = []
    for ind in sorted(indicators, key=lambda i: (i["process"], i["product"], i["route"])):
        if ind["route"] not in (ANY_ROUTE, route):
            continue
        process, product = ind["process"], ind["product"]
        if process == ENTERPRISE:
            tco2 = float(document["total_tco2"])
            output = sum(q for (_, p), q in outputs.items() if p == product)
        else:
            tco2 = float(by_process.get(process, 0.0))
            output = outputs.get((process, product), 0.0)
        row: dict[str, Any] = {
            "process": process, "route": ind["route"], "product": product, "tco2": tco2, "output_t": output,
            "benchmark_tco2_per_t": ind["benchmark_tco2_per_t"], "limit_tco2_per_t": ind["limit_tco2_per_t"],
            "source": ind["source"], "intensity_tco2_per_t": None, "gap_vs_benchmark": None, "gap_vs_limit": None,
            "exceeds_limit": None, "reduction_potential_tco2": None, "note": "",
        }
        if output <= 0:
            row["note"] = f"no {product} output recorded for {process}: enter a production line to compare"
        else:
            intensity = tco2 / output
            gap = intensity - ind["benchmark_tco2_per_t"]
            row.update(intensity_tco2_per_t=round(intensity, 6), gap_vs_benchmark=round(gap, 6),
                       reduction_potential_tco2=round(max(0.0, gap) * output, 3))
            if ind["limit_tco2_per_t"] is not None:
                row["gap_vs_limit"] = round(intensity - ind["limit_tco2_per_t"], 6)
                row["exceeds_limit"] = intensity > ind["limit_tco2_per_t"]
        rows.append(row)
    return rows
