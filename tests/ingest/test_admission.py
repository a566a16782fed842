"""Gateway admission and the sequence ledger that recognises replays."""

from __future__ import annotations

import pytest

from ingest.admission import GatewayAdmission, SequenceLedger


@pytest.mark.parametrize(
    ("accepted", "query", "replay"),
    [
        ([(0, 99)], (0, 99), True),
        ([(0, 99)], (10, 20), True),
        ([(0, 99)], (50, 150), False),
        ([(0, 99), (100, 199)], (50, 150), True),
        ([(0, 99), (200, 299)], (150, 250), False),
        ([(200, 299), (0, 99)], (250, 299), True),
        ([], (0, 0), False),
    ],
    ids=["same-range", "inside", "overlapping-new", "adjacent-ranges-merge", "gap", "out-of-order-records", "empty"],
)
def test_ledger_treats_only_fully_accepted_ranges_as_replays(accepted, query, replay) -> None:  # type: ignore[no-untyped-def]
    ledger = SequenceLedger()
    for first, last in accepted:
        ledger.record("gw", first, last)
    assert ledger.covers("gw", *query) is replay


def test_ledger_keeps_gateways_apart() -> None:
    ledger = SequenceLedger()
    ledger.record("gw-a", 0, 10)
    assert (ledger.covers("gw-a", 0, 10), ledger.covers("gw-b", 0, 10)) == (True, False)


def test_admission_keeps_last_known_gateways_when_registry_fails() -> None:
    answers: list[object] = [{"gw-1"}, RuntimeError("db down")]

    def load() -> set[str]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    admission = GatewayAdmission(load, refresh_s=0)
    admission.refresh_if_due()
    admission.refresh_if_due()
    assert (admission.allows("gw-1"), admission.allows("gw-2")) == (True, False)
