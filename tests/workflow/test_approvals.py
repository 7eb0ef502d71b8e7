"""Multi-level approvals: a discount above 10% needs a sales manager, above 25% a director too;
the record moves on only when every approval its values require has been given, by people
other than the owner, and for the values it still has."""

from __future__ import annotations

import pytest
from engine_support import DIRECTOR, MANAGER, NOW, REP, opp

from xrm.workflow import Actor, ApprovalRefused, approve, missing_approvals


def missing(wf, record, approvals=()):
    return [s.name for s in missing_approvals(wf, "send_quote", record, approvals, REP, now=NOW)]


def test_no_approval_is_needed_below_the_first_threshold(discount_wf):
    assert missing(discount_wf, opp(discount="10")) == []


def test_an_empty_discount_needs_no_approval(discount_wf):
    assert missing(discount_wf, opp(discount=None)) == []


def test_above_ten_percent_the_manager_must_approve(discount_wf):
    assert missing(discount_wf, opp(discount="12.5")) == ["manager"]


def test_above_twenty_five_percent_the_director_must_approve_too(discount_wf):
    assert missing(discount_wf, opp(discount="30")) == ["manager", "director"]


def test_given_approvals_are_no_longer_missing(discount_wf, manager, director):
    record = opp(discount="30")
    by_manager = approve(discount_wf, "send_quote", "manager", record, manager, REP, now=NOW)
    assert missing(discount_wf, record, [by_manager]) == ["director"]
    by_director = approve(
        discount_wf, "send_quote", "director", record, director, REP, [by_manager], now=NOW
    )
    assert missing(discount_wf, record, [by_manager, by_director]) == []


def test_an_approval_records_who_and_the_values_it_covers(discount_wf, manager):
    given = approve(
        discount_wf, "send_quote", "manager", opp(discount="12.50"), manager, REP, now=NOW
    )
    assert given.as_dict() == {
        "transition": "send_quote",
        "step": "manager",
        "user_id": MANAGER,
        "snapshot": {"discount": 12.5},
        "at": "2025-03-03T09:00:00+00:00",
    }


def test_changing_a_covered_value_voids_the_approval(discount_wf, manager):
    given = approve(discount_wf, "send_quote", "manager", opp(discount="12"), manager, REP, now=NOW)
    assert missing(discount_wf, opp(discount="12.00"), [given]) == []  # same value
    assert missing(discount_wf, opp(discount="20"), [given]) == ["manager"]


def test_approving_needs_the_steps_role(discount_wf, rep):
    colleague = Actor(5, frozenset({"sales_rep"}))
    with pytest.raises(ApprovalRefused) as info:
        approve(discount_wf, "send_quote", "manager", opp(discount="12"), colleague, REP, now=NOW)
    assert info.value.status == 403
    assert str(info.value) == "approval 'manager' needs one of the roles sales_manager"


def test_the_owner_cannot_approve_their_own_record(discount_wf):
    owner_manager = Actor(REP, frozenset({"sales_manager"}))
    with pytest.raises(ApprovalRefused) as info:
        approve(
            discount_wf, "send_quote", "manager", opp(discount="12"), owner_manager, REP, now=NOW
        )
    assert info.value.status == 403


def test_one_person_cannot_give_two_levels(discount_wf, director):
    record = opp(discount="30")
    first = approve(discount_wf, "send_quote", "manager", record, director, REP, now=NOW)
    with pytest.raises(ApprovalRefused, match="each step needs another person"):
        approve(discount_wf, "send_quote", "director", record, director, REP, [first], now=NOW)


def test_recorded_approvals_by_one_person_count_for_one_step_only(discount_wf, director):
    record = opp(discount="30")
    first = approve(discount_wf, "send_quote", "manager", record, director, REP, now=NOW)
    second = first.__class__("send_quote", "director", DIRECTOR, first.snapshot)
    assert missing(discount_wf, record, [first, second]) == ["director"]


def test_an_approval_that_is_not_needed_is_refused_with_409(discount_wf, manager):
    with pytest.raises(ApprovalRefused) as info:
        approve(discount_wf, "send_quote", "manager", opp(discount="5"), manager, REP, now=NOW)
    assert info.value.status == 409


def test_approving_a_transition_that_does_not_leave_the_current_state_is_409(discount_wf, manager):
    with pytest.raises(ApprovalRefused) as info:
        approve(discount_wf, "send_quote", "manager", opp(stage="won"), manager, REP, now=NOW)
    assert info.value.status == 409
