"""The transition evaluator: for a record, an actor and the owner, which transitions can be
taken now and, for the others, why not; firing one yields the values to write and the effects
to queue, or a typed refusal whose HTTP status follows its reason."""

from __future__ import annotations

import pytest
from engine_support import MANAGER, NOW, OTHER_REP, REP, opp

from xrm.workflow import (
    SYSTEM,
    Actor,
    TransitionInput,
    TransitionRefused,
    UnknownTransition,
    approve,
    available_transitions,
    fire,
    initial_values,
    update_problems,
)

QUOTE_INPUT = TransitionInput(values={"valid_until": "2025-04-30"})


def options(wf, record, actor, owner=REP, **kw):
    return {o.name: o for o in available_transitions(wf, record, actor, owner, now=NOW, **kw)}


def codes(option):
    return [r.code for r in option.reasons]


def refusal(wf, name, record, actor, owner=REP, **kw) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as info:
        fire(wf, name, record, actor, owner, now=NOW, **kw)
    return info.value


def test_a_transition_is_available_when_every_condition_holds(discount_wf, rep):
    found = options(discount_wf, opp(discount="5"), rep, input=QUOTE_INPUT)
    assert found["send_quote"].available
    assert found["send_quote"].reasons == ()


def test_transitions_leaving_other_states_say_only_wrong_state(discount_wf, rep):
    found = options(discount_wf, opp(), rep)
    assert codes(found["win"]) == ["wrong_state"]
    assert found["win"].reasons[0].message == "the record is 'draft'; 'win' leaves quoted"


def test_a_user_without_the_role_cannot_take_it(discount_wf):
    clerk = Actor(9, frozenset({"clerk"}))
    found = options(discount_wf, opp(), clerk, input=QUOTE_INPUT)
    assert codes(found["send_quote"]) == ["role"]
    assert found["send_quote"].reasons[0].message == (
        "'Send quote' needs one of the roles sales_rep, sales_manager"
    )


def test_a_false_guard_gives_its_message(discount_wf, rep):
    found = options(discount_wf, opp(amount="0"), rep, input=QUOTE_INPUT)
    assert found["send_quote"].reasons[0].as_dict() == {
        "code": "guard",
        "message": "an opportunity needs an amount before it is quoted",
        "fields": ["amount"],
    }


def test_a_guard_that_cannot_be_evaluated_keeps_the_transition_closed(discount_wf, rep):
    discount_wf.transition("send_quote")  # guard: record.amount != null && record.amount > 0.0
    found = options(discount_wf, opp(amount=None), rep, input=QUOTE_INPUT)
    assert codes(found["send_quote"]) == ["guard"]


def test_missing_fields_and_comment_are_input_the_dialog_can_ask_for(discount_wf, rep):
    lose = options(discount_wf, opp(), rep)["lose"]
    assert codes(lose) == ["missing_fields", "comment_required"]
    assert lose.reasons[0].fields == ("lost_reason",)
    assert lose.needs_input_only
    assert lose.fields == ("notes", "lost_reason") and lose.require_comment


def test_input_fills_the_missing_fields(discount_wf, rep):
    given = TransitionInput(comment="budget cut", values={"lost_reason": "no budget"})
    assert options(discount_wf, opp(), rep, input=given)["lose"].available


def test_input_may_only_carry_the_fields_the_transition_takes(discount_wf, rep):
    given = TransitionInput(comment="x", values={"lost_reason": "y", "amount": "1"})
    lose = options(discount_wf, opp(), rep, input=given)["lose"]
    assert codes(lose) == ["unexpected_input"]
    assert lose.reasons[0].fields == ("amount",)


def test_four_eyes_the_owner_may_not_take_a_not_by_owner_transition(discount_wf):
    owner_manager = Actor(REP, frozenset({"sales_manager"}))
    record = opp(stage="lost", lost_reason="x")
    assert codes(options(discount_wf, record, owner_manager)["reopen"]) == ["four_eyes"]
    other = Actor(MANAGER, frozenset({"sales_manager"}))
    assert options(discount_wf, record, other)["reopen"].available


def test_only_the_owner_may_take_an_owner_only_transition(discount_wf, rep):
    record = opp(stage="quoted", valid_until="2025-04-30")
    assert options(discount_wf, record, rep)["win"].available
    colleague = Actor(OTHER_REP, frozenset({"sales_rep"}))
    assert codes(options(discount_wf, record, colleague)["win"]) == ["owner_only"]


def test_pending_approvals_are_named(discount_wf, rep):
    found = options(discount_wf, opp(discount="30"), rep, input=QUOTE_INPUT)
    assert found["send_quote"].reasons[0].message == (
        "waiting for approval: Sales manager, Sales director"
    )


def test_every_reason_is_listed_not_just_the_first(discount_wf):
    clerk = Actor(9, frozenset({"clerk"}))
    found = options(discount_wf, opp(amount="0", discount="12"), clerk)
    assert codes(found["send_quote"]) == ["role", "missing_fields", "approvals_pending", "guard"]


def test_firing_returns_the_new_state_the_input_and_the_computed_fields(discount_wf, rep):
    firing = fire(discount_wf, "send_quote", opp(discount="5"), rep, REP, QUOTE_INPUT, now=NOW)
    assert (firing.from_state, firing.to_state) == ("draft", "quoted")
    assert dict(firing.values) == {
        "valid_until": "2025-04-30",
        "quoted_at": "2025-03-03T09:00:00Z",
        "net_amount": "9500.00",
        "stage": "quoted",
    }


def test_firing_yields_the_effects_for_the_outbox_with_values_after_set_fields(discount_wf, rep):
    firing = fire(discount_wf, "send_quote", opp(discount="5"), rep, REP, QUOTE_INPUT, now=NOW)
    assert [e.as_dict() for e in firing.effects] == [
        {
            "type": "webhook",
            "data": {
                "url": "https://erp.example.com/quotes",
                "method": "POST",
                "payload": {"name": "ACME renewal", "net": 9500.0},
            },
            "pointer": "/transitions/0/actions/1",
        }
    ]


def test_a_transition_from_the_wrong_state_is_a_409(discount_wf, rep):
    assert refusal(discount_wf, "win", opp(), rep).status == 409


def test_a_missing_role_or_ownership_is_a_403(discount_wf):
    assert refusal(discount_wf, "send_quote", opp(), Actor(9, ())).status == 403
    colleague = Actor(OTHER_REP, frozenset({"sales_rep"}))
    assert refusal(discount_wf, "win", opp(stage="quoted"), colleague).status == 403


def test_a_false_guard_missing_fields_or_comment_is_a_422(discount_wf, rep):
    assert refusal(discount_wf, "send_quote", opp(amount="0"), rep, input=QUOTE_INPUT).status == 422
    error = refusal(discount_wf, "lose", opp(), rep)
    assert error.status == 422
    assert str(error) == (
        "sales.opportunity: transition 'lose' refused: fill in lost_reason; a comment is required"
    )


def test_pending_approvals_are_a_409(discount_wf, rep):
    assert (
        refusal(discount_wf, "send_quote", opp(discount="12"), rep, input=QUOTE_INPUT).status == 409
    )


def test_an_unknown_transition_is_a_404(discount_wf, rep):
    with pytest.raises(UnknownTransition) as info:
        fire(discount_wf, "teleport", opp(), rep, REP)
    assert info.value.status == 404


def test_approved_transitions_fire(discount_wf, rep, manager):
    record = opp(discount="12")
    given = approve(discount_wf, "send_quote", "manager", record, manager, REP, now=NOW)
    firing = fire(discount_wf, "send_quote", record, rep, REP, QUOTE_INPUT, [given], now=NOW)
    assert firing.values["net_amount"] == "8800.00"


def test_the_platform_acts_without_role_or_ownership_checks_but_with_guards(discount_wf):
    record = opp(stage="quoted", valid_until="2025-04-30")
    firing = fire(discount_wf, "expire", record, SYSTEM, REP, now=NOW)
    assert dict(firing.values) == {"lost_reason": "quote expired", "stage": "lost"}
    assert (
        refusal(discount_wf, "send_quote", opp(amount="0"), SYSTEM, input=QUOTE_INPUT).status == 422
    )


def test_an_action_setting_a_required_field_satisfies_the_target_state(discount_wf):
    # 'lost' requires lost_reason; 'expire' sets it, so it is not asked for.
    record = opp(stage="quoted")
    assert options(discount_wf, record, SYSTEM)["expire"].available


def test_a_new_record_starts_in_the_initial_state(discount_wf):
    values, problems = initial_values(discount_wf, {"name": "New deal"})
    assert values["stage"] == "draft" and problems == []
    _, problems = initial_values(discount_wf, {"name": "New deal", "stage": "won"})
    assert [p.as_dict() for p in problems] == [
        {"field": "stage", "message": "a new Opportunity starts in state 'draft', not 'won'"}
    ]


def test_a_plain_update_cannot_change_the_state(discount_wf):
    problems = update_problems(discount_wf, opp(), {"stage": "won"})
    assert [p.message for p in problems] == [
        "the state changes only by a transition (lose, send_quote)"
    ]


def test_read_only_fields_of_the_current_state_keep_their_value(discount_wf):
    before = opp(stage="quoted", discount="5.00", valid_until="2025-04-30")
    assert update_problems(discount_wf, before, {"discount": "5"}) == []  # same value
    problems = update_problems(discount_wf, before, {"discount": "8", "valid_until": None})
    assert [p.as_dict() for p in problems] == [
        {
            "field": "discount",
            "message": "cannot change while the record is 'Quoted'",
            "rule": "quoted",
        },
        {
            "field": "valid_until",
            "message": "is required while the record is 'Quoted'",
            "rule": "quoted",
        },
    ]
