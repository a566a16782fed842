"""The report workflow state machine (carbon_domain.reports.workflow): every state x action x role.

The expected outcomes are written out here, independently of the module's rule table:
送审 submit by the enterprise from draft or returned; 初审 first_review and 终审 final_review by
government; 退回 return by government from either review state, with a comment; verify by the
auditor while under review (state unchanged); the administrator may take any action.
"""

from __future__ import annotations

import itertools

import pytest

from carbon_domain.reports.errors import (
    ActionNotPermitted,
    CommentRequired,
    ConflictOfDuties,
    InvalidTransition,
)
from carbon_domain.reports.workflow import Action, Participants, State, allowed_actions, transition

S, A = State, Action
ROLES = ("enterprise", "government", "auditor", "technician", "admin")
TRANSITIONS = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.RETURNED, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.FIRST_REVIEW): S.FIRST_REVIEWED,
    (S.FIRST_REVIEWED, A.FINAL_REVIEW): S.APPROVED,
    (S.SUBMITTED, A.RETURN): S.RETURNED,
    (S.FIRST_REVIEWED, A.RETURN): S.RETURNED,
    (S.SUBMITTED, A.VERIFY): S.SUBMITTED,
    (S.FIRST_REVIEWED, A.VERIFY): S.FIRST_REVIEWED,
}
ACTOR = {A.SUBMIT: "enterprise", A.FIRST_REVIEW: "government", A.FINAL_REVIEW: "government",
         A.RETURN: "government", A.VERIFY: "auditor"}
CASES = list(itertools.product(State, Action, ROLES))


def _expected(state: State, action: Action, role: str) -> State | type[Exception]:
    if role not in (ACTOR[action], "admin"):
        return ActionNotPermitted
    return TRANSITIONS.get((state, action), InvalidTransition)


@pytest.mark.parametrize(("state", "action", "role"), CASES, ids=[f"{s}-{a}-{r}" for s, a, r in CASES])
def test_every_state_action_and_role(state: State, action: Action, role: str) -> None:
    expected = _expected(state, action, role)
    if isinstance(expected, State):
        assert transition(state, action, role, comment="please revise line 3") is expected
    else:
        with pytest.raises(expected):
            transition(state, action, role, comment="please revise line 3")


@pytest.mark.parametrize("state", [S.SUBMITTED, S.FIRST_REVIEWED])
@pytest.mark.parametrize("comment", ["", "   \n"])
def test_return_without_a_comment_is_refused(state: State, comment: str) -> None:
    with pytest.raises(CommentRequired, match="needs a comment"):
        transition(state, A.RETURN, "government", comment=comment)


def test_a_refused_role_is_told_who_may_act_before_any_state_rule() -> None:
    with pytest.raises(ActionNotPermitted, match=r"role 'enterprise' may not final_review .*admin, government"):
        transition(S.DRAFT, A.FINAL_REVIEW, "enterprise")


def test_approved_is_final_even_for_the_administrator() -> None:
    for action in Action:
        with pytest.raises(InvalidTransition, match="not possible from state 'approved'"):
            transition(S.APPROVED, action, "admin", comment="x")


@pytest.mark.parametrize(("state", "role"), list(itertools.product(State, ROLES)))
def test_allowed_actions_are_exactly_the_transitions_that_succeed(state: State, role: str) -> None:
    assert allowed_actions(state, role) == [a for a in Action if isinstance(_expected(state, a, role), State)]


# --- four eyes: (action, state, actor, participants) -> the refusal's words, or None -------------------------

P = Participants
FOUR_EYES = [
    (A.FIRST_REVIEW, S.SUBMITTED, "prep", P(preparers=frozenset({"prep"})), "prepared this report"),
    (A.FINAL_REVIEW, S.FIRST_REVIEWED, "prep", P(preparers=frozenset({"prep"})), "prepared this report"),
    (A.VERIFY, S.SUBMITTED, "prep", P(preparers=frozenset({"prep"})), "prepared this report"),
    (A.FIRST_REVIEW, S.SUBMITTED, "ver", P(verifiers=frozenset({"ver"})), "third-party verifier"),
    (A.FINAL_REVIEW, S.FIRST_REVIEWED, "ver", P(verifiers=frozenset({"ver"})), "third-party verifier"),
    (A.VERIFY, S.FIRST_REVIEWED, "rev", P(reviewers=frozenset({"rev"})), "reviewed this report"),
    (A.FINAL_REVIEW, S.FIRST_REVIEWED, "rev", P(reviewers=frozenset({"rev"}), first_reviewer="rev"),
     "needs a second person"),
    # the first reviewer of an earlier submission (returned since) is not the first reviewer of this one
    (A.FINAL_REVIEW, S.FIRST_REVIEWED, "rev", P(reviewers=frozenset({"rev"}), first_reviewer="other"), None),
    (A.FIRST_REVIEW, S.SUBMITTED, "someone", P(preparers=frozenset({"prep"}), verifiers=frozenset({"ver"})), None),
]


@pytest.mark.parametrize(("action", "state", "actor", "participants", "refusal"), FOUR_EYES)
def test_four_eyes_refuse_a_person_with_another_part_in_the_report(
        action: Action, state: State, actor: str, participants: Participants, refusal: str | None) -> None:
    if refusal is None:
        assert transition(state, action, "admin", actor=actor, participants=participants)
        return
    with pytest.raises(ConflictOfDuties, match=refusal):
        transition(state, action, "admin", actor=actor, participants=participants)
    assert action not in allowed_actions(state, "admin", actor=actor, participants=participants)
