"""Enterprise GHG inventories and reports (GB/T 32150-2015, GB/T 32151.5-2015 steel).

* `document`: metered and entered activity data -> the inventory document (pure);
* `render`: the document -> the report in Chinese or English as PDF and XLSX (deterministic bytes), worded by
  `labels`, its CJK font (`fonts`) embedded in the PDF;
* `signing`: the platform's signature on an approved report's PDF;
* `workflow`: the submit / review / return / verify state machine (pure);
* `benchmarks`: process intensity against benchmark and limit values (pure).
"""

from carbonflow.reports.benchmarks import benchmark_gaps, infer_route
from carbonflow.reports.document import (
    DEFAULT_TOLERANCE,
    PRODUCTION,
    QUALITIES,
    EnteredLine,
    Enterprise,
    MeteredAggregate,
    Site,
    build_document,
)
from carbonflow.reports.errors import (
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
from carbonflow.reports.labels import LANGUAGES, Language
from carbonflow.reports.render import (
    render_pdf,
    render_xlsx,
    report_cover,
    report_sections,
    report_title,
)
from carbonflow.reports.signing import sign_pdf
from carbonflow.reports.workflow import Action, Participants, State, allowed_actions, duty_conflict, transition

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
    "render_pdf",
    "render_xlsx",
    "report_cover",
    "report_sections",
    "report_title",
    "sign_pdf",
    "transition",
]
