"""The report review workflow as a pure state machine (no I/O).

An enterprise's report for a year moves through::

    draft ──submit──▶ submitted ──first_review──▶ first_reviewed ──final_review──▶ approved
      ▲                  │                             │
      │                  └──────────return─────────────┤
    returned ◀───────────────────────────────────────────┘
    returned ──submit──▶ submitted

* 送审 ``submit``: the enterprise (from draft or returned); every submission freezes a new snapshot.
* 初审 ``first_review`` and 终审 ``final_review``: government reviewers.
* 退回 ``return``: government reviewers, from submitted or first_reviewed, always with a comment.
* ``verify``: a third-party verifier (auditor) records findings and a verified total while the report
  is under review (submitted or first_reviewed); the state does not change.
* Administrators may take every action (the state rules still apply).

Four eyes (`Participants`, checked by person, whatever the role, so administrators too):

* 初审 and 终审 of one submission are done by two different people;
* nobody who prepared the report (submitted it, or entered the activity data it is computed from)
  reviews or verifies it;
* the report's verifier does not review it, and a reviewer of it does not verify it.

>>> transition(State.DRAFT, Action.SUBMIT, "enterprise")
<State.SUBMITTED: 'submitted'>
>>> transition(State.SUBMITTED, Action.FINAL_REVIEW, "government")
Traceback (most recent call last):
...
carbon_domain.reports.errors.InvalidTransition: final_review is not possible from state 'submitted' (allowed from: first_reviewed)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carbon_domain.reports.errors import (
    ActionNotPermitted,
    CommentRequired,
    ConflictOfDuties,
    InvalidTransition,
)

__all__ = ["ADMIN_ROLE", "RULES", "Action", "Participants", "Rule", "State", "allowed_actions", "duty_conflict",
           "transition"]

ADMIN_ROLE = "admin"


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    FIRST_REVIEWED = "first_reviewed"
    APPROVED = "approved"
    RETURNED = "returned"


class Action(StrEnum):
    SUBMIT = "submit"
    FIRST_REVIEW = "first_review"
    FINAL_REVIEW = "final_review"
    RETURN = "return"
    VERIFY = "verify"


@dataclass(frozen=True)
class Rule:
    """Where an action may start, where it leads (None: stays) and which roles (besides admin) may take it."""

    sources: tuple[State, ...]
    target: State | None
    roles: frozenset[str]
    needs_comment: bool = False
    label: str = ""


RULES: dict[Action, Rule] = {
    Action.SUBMIT: Rule((State.DRAFT, State.RETURNED), State.SUBMITTED, frozenset({"enterprise"}), label="送审"),
    Action.FIRST_REVIEW: Rule((State.SUBMITTED,), State.FIRST_REVIEWED, frozenset({"government"}), label="初审"),
    Action.FINAL_REVIEW: Rule((State.FIRST_REVIEWED,), State.APPROVED, frozenset({"government"}), label="终审"),
    Action.RETURN: Rule((State.SUBMITTED, State.FIRST_REVIEWED), State.RETURNED, frozenset({"government"}),
                        needs_comment=True, label="退回修改"),
    Action.VERIFY: Rule((State.SUBMITTED, State.FIRST_REVIEWED), None, frozenset({"auditor"}), label="第三方核查"),
}


@dataclass(frozen=True)
class Participants:
    """Who has taken part in a report so far (user names)."""

    preparers: frozenset[str] = frozenset()  # submitted it, or entered the activity data it is computed from
    verifiers: frozenset[str] = frozenset()  # recorded a verification of any of its snapshots
    reviewers: frozenset[str] = frozenset()  # took 初审 / 终审 / 退回 on any of its submissions
    first_reviewer: str | None = None  # 初审 of the current submission


_REVIEWS = (Action.FIRST_REVIEW, Action.FINAL_REVIEW)


def duty_conflict(action: Action, actor: str, participants: Participants) -> str | None:
    """Why `actor` may not take `action` given who took part so far (four eyes), or None."""
    if action in _REVIEWS or action is Action.VERIFY:
        doing = RULES[action].label
        if actor in participants.preparers:
            return (f"{actor} prepared this report (submitted it or entered its activity data) and may not do its "
                    f"{doing} {action.value}; it needs someone who did not prepare it")
        if action in _REVIEWS and actor in participants.verifiers:
            return (f"{actor} verified this report as its third-party verifier and may not also do its {doing} "
                    f"{action.value}")
        if action is Action.VERIFY and actor in participants.reviewers:
            return f"{actor} reviewed this report and may not also verify it; the verifier is independent of review"
    if action is Action.FINAL_REVIEW and actor == participants.first_reviewer:
        return (f"{actor} did the 初审 first_review of this submission; the 终审 final_review needs a second "
                "person")
    return None


def transition(state: State, action: Action, role: str, *, comment: str = "", actor: str | None = None,
               participants: Participants | None = None) -> State:
    """The state after `role` takes `action` in `state`; raises a WorkflowError saying which rule refuses it.

    The role is checked before the state, so that a caller who may never take an action is told so
    rather than being told to wait for another state; with `actor` and `participants` the four-eyes
    rules (`duty_conflict`) are checked last.
    """
    rule = RULES[action]
    if role != ADMIN_ROLE and role not in rule.roles:
        allowed = ", ".join(sorted(rule.roles | {ADMIN_ROLE}))
        raise ActionNotPermitted(f"role {role!r} may not {action.value} a report (allowed: {allowed})")
    if state not in rule.sources:
        sources = ", ".join(s.value for s in rule.sources)
        raise InvalidTransition(f"{action.value} is not possible from state {state.value!r} (allowed from: {sources})")
    if rule.needs_comment and not comment.strip():
        raise CommentRequired(f"{action.value} needs a comment saying what to revise")
    if actor is not None and participants is not None:
        conflict = duty_conflict(action, actor, participants)
        if conflict:
            raise ConflictOfDuties(conflict)
    return rule.target or state


def allowed_actions(state: State, role: str, *, actor: str | None = None,
                    participants: Participants | None = None) -> list[Action]:
    """The actions `role` (and, given, the person `actor`) may take in `state`, in the order of `Action`."""
    return [
        action for action, rule in RULES.items()
        if state in rule.sources and (role == ADMIN_ROLE or role in rule.roles)
        and (actor is None or participants is None or duty_conflict(action, actor, participants) is None)
    ]
