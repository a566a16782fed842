"""Enterprise GHG inventories and reports (GB/T 32150-2015, GB/T 32151.5-2015 steel).

* `document`: metered and entered activity data -> the inventory document (pure);
* the report in Chinese as PDF and XLSX is rendered by the accounting service (`api/accounting/render.py`);
* `workflow`: the submit / review / return / verify state machine (pure);
* `benchmarks`: process intensity against benchmark and limit values (pure).
"""

from carbon_domain.reports.benchmarks import benchmark_gaps, infer_route
from carbon_domain.reports.document import (
    DEFAULT_TOLERANCE,
    PRODUCTION,
    QUALITIES,
    EnteredLine,
    Enterprise,
    MeteredAggregate,
    Site,
    build_document,
)
from carbon_domain.reports.errors import (
    ActionNotPermitted,
    CommentRequired,
    InvalidTransition,
    InventoryDataError,
    ReportError,
    ReportInputError,
    WorkflowError,
)
from carbon_domain.reports.workflow import Action, State, allowed_actions, transition

__all__ = [
    "DEFAULT_TOLERANCE",
    "PRODUCTION",
    "QUALITIES",
    "Action",
    "ActionNotPermitted",
    "CommentRequired",
    "EnteredLine",
    "Enterprise",
    "InvalidTransition",
    "InventoryDataError",
    "MeteredAggregate",
    "ReportError",
    "ReportInputError",
    "Site",
    "State",
    "WorkflowError",
    "allowed_actions",
    "benchmark_gaps",
    "build_document",
    "infer_route",
    "transition",
]
