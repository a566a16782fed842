"""A steel works' inventory document for the report tests: a year of the shipped example file spread over two
months (one line estimated, one month's gas jumping), with meters on two lines (one flagged, one off by 30 %)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carbon_domain.factors import FactorLibrary
from carbon_domain.reports.document import EnteredLine, Enterprise, MeteredAggregate, Site, build_document

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "steelworks-2025-activity.csv"
AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
WORKS = Enterprise("hb-steel", "河北示范钢铁有限公司", "hebei", "steel",
                   (Site("hb-steel-1", "唐山厂区", "hebei"),))


def steel_document(**extra: Any) -> dict[str, Any]:
    """The document, with `extra` keys merged in (a submission's preparer...)."""
    with EXAMPLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    entered: list[EnteredLine] = []
    for month, scale in (("2025-01", 1.0), ("2025-02", 1.0)):
        for number, row in enumerate(rows, start=len(entered) + 2):
            quantity = float(row["quantity"]) * (scale * 2 if (month, row["item"], row["process"]) ==
                                                 ("2025-02", "natural_gas", "rolling") else scale)
            quality = "estimated" if (month, row["item"]) == ("2025-02", "diesel") else "measured"
            entered.append(EnteredLine(1, AT, number, month, row["process"], row["source_type"], row["item"], quantity,
                                       row["unit"], row["direction"], quality))
    metered = [MeteredAggregate("2025-01", "rolling", "electricity", 23_400.0, "MWh", 744, 0, AT),
               MeteredAggregate("2025-02", "ironmaking", "electricity", 9_050.0, "MWh", 672, 5, AT)]
    document = build_document(enterprise=WORKS, year=2025, month=None, entered=entered, metered=metered,
                              library=FactorLibrary.default(), series="ndrc-steel-2013")
    return {**document, **extra}
