"""Errors of the reports package.

    ReportError              base class; never raised itself
    ├── ReportInputError     a document that cannot be rendered (missing section, wrong type)
    ├── FontMissing          the report's CJK font is not installed (says how to install it)
    ├── SigningKeyError      the platform's report signing key or certificate cannot be used
    ├── InventoryDataError   activity lines that cannot be accounted; ``problems`` lists each with its origin
    └── WorkflowError        a workflow action that is refused; ``reason`` says which rule
        ├── ActionNotPermitted   the actor's role may not take this action
        ├── InvalidTransition    the action is not possible from the current state
        ├── CommentRequired      the action needs a comment (returning a report)
        └── ConflictOfDuties     four eyes: this person took another part in the report (prepared,
                                 verified, or did the first review)
"""

from __future__ import annotations

__all__ = [
    "ActionNotPermitted",
    "CommentRequired",
    "ConflictOfDuties",
    "FontMissing",
    "InvalidTransition",
    "InventoryDataError",
    "ReportError",
    "ReportInputError",
    "SigningKeyError",
    "WorkflowError",
]


class ReportError(Exception):
    """Base class of every error raised on purpose by `carbon_domain.reports`."""


class ReportInputError(ReportError, ValueError):
    """A report document that cannot be rendered."""


class FontMissing(ReportError):
    """No copy of the report's CJK font is installed."""


class SigningKeyError(ReportError):
    """The platform's report signing key or certificate cannot be used."""


class InventoryDataError(ReportError, ValueError):
    """Activity lines that cannot be accounted; `problems` names each line's origin and reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"{len(problems)} activity line(s) cannot be accounted: {listed}")


class WorkflowError(ReportError):
    """A refused workflow action."""


class ActionNotPermitted(WorkflowError):
    """The actor's role may not take the action."""


class InvalidTransition(WorkflowError):
    """The action is not possible from the current state."""


class CommentRequired(WorkflowError, ValueError):
    """The action needs a non-empty comment."""


class ConflictOfDuties(WorkflowError):
    """Four eyes: the person already took a part in the report that excludes this action."""
