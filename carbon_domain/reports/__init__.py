"""Enterprise GHG inventories and reports (GB/T 32150-2015, GB/T 32151.5-2015 steel).

* `document`: metered and entered activity data -> the inventory document (pure);
* `labels`: the report's wording in Chinese and English (pure);
* `cross_check`: entered energy figures against the metered totals (pure);
* the report in Chinese or English as PDF and XLSX is rendered by the accounting service
  (`api/accounting/render.py`, with its embedded CJK font `fonts` and the approved PDF's signature `signing`);
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
    ConflictOfDuties,
    FontMissing,
    InvalidTransition,
    InventoryDataError,
    ReportError,
    ReportInputError,
    SigningKeyError,
    WorkflowError,
)
from carbon_domain.reports.labels import LANGUAGES, Language
from carbon_domain.reports.workflow import Action, Participants, State, allowed_actions, duty_conflict, transition

__all__ = [
    "DEFAULT_TOLERANCE",
    "PRODUCTION",
    "QUALITIES",
    "Action",
    "ActionNotPermitted",
    "CommentRequired",
    "ConflictOfDuties",
    "EnteredLine",
    "Enterprise",
    "FontMissing",
    "InvalidTransition",
    "LANGUAGES",
    "Language",
    "InventoryDataError",
    "MeteredAggregate",
    "Participants",
    "ReportError",
    "ReportInputError",
    "SigningKeyError",
    "Site",
    "State",
    "WorkflowError",
    "allowed_actions",
    "benchmark_gaps",
    "duty_conflict",
    "build_document",
    "infer_route",
    "transition",
]
