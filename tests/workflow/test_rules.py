"""Rules of an entity: validation rules, computed fields (in dependency order, cycles refused),
defaults and form rules, declared in a rule set document and evaluated by pure functions."""

from __future__ import annotations

import copy

import pytest
from engine_support import NOW

from xrm.workflow.rules import (
    RulesInvalid,
    apply_defaults,
    apply_rules,
    check_rules,
    compute,
    form_problems,
    form_state,
    validate,
)

RULES = {
    "name": "sales.opportunity_rules",
    "entity": "sales.opportunity",
    "validations": [
        {
            "name": "discount_cap",
            "field": "discount",
            "expression": "record.discount <= 40.0",
            "message": "a discount above 40% is never allowed",
        },
        {
            "name": "close_after_quote",
            "field": "close_date",
            "when": "record.stage == 'won'",
            "expression": "record.close_date != null",
            "message": "a won opportunity needs a close date",
        },
        {
            "name": "per_unit",
            "expression": "int(record.amount) / record.quantity >= 1",
            "message": "an amount below 1 per unit",
        },
    ],
    "computed": [
        {"field": "net_amount", "expression": "record.amount - record.price.amount"},
        {
            "field": "price",
            "expression": "record.amount * (record.discount == null ? 0.0 : record.discount) / 100.0",
        },
    ],
    "defaults": [
        {"field": "close_date", "expression": "today + duration('720h')"},
        {"field": "priority", "expression": "'high'", "when": "record.amount > 50000.0"},
        {"field": "priority", "expression": "'normal'", "when": "record.amount <= 50000.0"},
    ],
    "formRules": [
        {
            "name": "lost_reason",
            "when": "record.stage == 'lost'",
            "show": ["lost_reason"],
            "require": ["lost_reason"],
        },
        {"name": "frozen_when_won", "when": "record.stage == 'won'", "readOnly": ["amount"]},
        {"name": "no_notes_for_small", "when": "record.amount < 100.0", "hide": ["notes"]},
    ],
}


@pytest.fixture
def rules_doc():
    return copy.deepcopy(RULES)


@pytest.fixture
def rules(rules_doc, opportunity):
    return check_rules(rules_doc, opportunity)


def errors_of(doc, entity) -> dict[str, str]:
    with pytest.raises(RulesInvalid) as info:
        check_rules(doc, entity)
    return {p.pointer: p.message for p in info.value.problems}


def test_a_validation_rule_reports_its_message_on_its_field(rules):
    problems = validate(rules, {"discount": "45", "amount": "100", "quantity": 1}, now=NOW)
    assert [p.as_dict() for p in problems] == [
        {
            "field": "discount",
            "message": "a discount above 40% is never allowed",
            "rule": "discount_cap",
        }
    ]


def test_a_validation_rule_applies_only_when_its_condition_holds(rules):
    assert validate(rules, {"stage": "draft"}, now=NOW) == []
    assert [p.rule for p in validate(rules, {"stage": "won"}, now=NOW)] == ["close_after_quote"]


def test_a_rule_reading_an_empty_field_passes_like_a_sql_check(rules):
    assert validate(rules, {"discount": None, "amount": None}, now=NOW) == []


def test_a_rule_that_fails_for_another_reason_is_reported(rules):
    problems = validate(rules, {"amount": "10", "quantity": 0}, now=NOW)
    assert [p.rule for p in problems] == ["per_unit"]
    assert problems[0].field is None  # a record-level rule


def test_computed_fields_are_evaluated_in_dependency_order(rules):
    # net_amount reads price, which is computed too: price comes first.
    assert rules.computed_fields == ("price", "net_amount")
    out = compute(
        rules,
        {"amount": "1000", "discount": "15", "price": {"amount": "1", "currency": "CHF"}},
        now=NOW,
    )
    assert out.values == {"price": {"amount": "150.00", "currency": "CHF"}, "net_amount": "850.00"}
    assert out.problems == []


def test_a_computed_field_with_empty_inputs_becomes_empty(rules):
    assert compute(rules, {"amount": None}, now=NOW).values == {"price": None, "net_amount": None}


def test_a_cycle_among_computed_fields_is_refused_naming_it(rules_doc, opportunity):
    rules_doc["computed"] = [
        {"field": "amount", "expression": "record.net_amount + 1.0"},
        {"field": "net_amount", "expression": "double(record.quantity) * 2.0"},
        {"field": "quantity", "expression": "int(record.amount)"},
    ]
    assert errors_of(rules_doc, opportunity) == {
        "/computed/0": "computed fields form a cycle: amount -> net_amount -> quantity -> amount"
    }


def test_a_formula_reading_its_own_field_is_a_cycle(rules_doc, opportunity):
    rules_doc["computed"] = [{"field": "amount", "expression": "record.amount + 1.0"}]
    assert errors_of(rules_doc, opportunity) == {
        "/computed/0": "computed fields form a cycle: amount -> amount"
    }


def test_defaults_fill_only_empty_fields_of_a_new_record(rules):
    out = apply_defaults(rules, {"amount": "80000", "close_date": None}, now=NOW)
    assert out.values == {"close_date": "2025-04-02", "priority": "high"}
    given = {"amount": "10", "close_date": "2025-12-31", "priority": "low"}
    assert apply_defaults(rules, given, now=NOW).values == {}


def test_the_first_default_whose_condition_holds_wins(rules):
    assert apply_defaults(rules, {"amount": "80000"}, now=NOW).values["priority"] == "high"
    assert apply_defaults(rules, {"amount": "800"}, now=NOW).values["priority"] == "normal"


def test_the_form_state_follows_the_form_rules_and_the_entity(rules):
    draft = form_state(rules, {"stage": "draft", "amount": "50"}, now=NOW)
    assert draft.hidden == {"lost_reason", "notes"}
    assert draft.required == {"name", "stage"}
    assert draft.read_only == {"net_amount"}
    lost = form_state(rules, {"stage": "lost", "amount": "500"}, now=NOW)
    assert "lost_reason" not in lost.hidden and "lost_reason" in lost.required


def test_the_form_state_includes_the_workflow_states_rules(rules, discount_wf):
    state = form_state(rules, {"stage": "quoted", "amount": "500"}, workflow=discount_wf, now=NOW)
    assert {"amount", "discount", "stage"} <= state.read_only
    assert "valid_until" in state.required


def test_conditional_required_and_read_only_are_enforced_on_save(rules):
    assert [p.as_dict() for p in form_problems(rules, {"stage": "lost"}, now=NOW)] == [
        {"field": "lost_reason", "message": "is required", "rule": "lost_reason"}
    ]
    before = {"stage": "won", "amount": "100.00"}
    assert form_problems(rules, {"stage": "won", "amount": "100"}, before, now=NOW) == []
    assert [
        p.field for p in form_problems(rules, {"stage": "won", "amount": "90"}, before, now=NOW)
    ] == ["amount"]


def test_apply_rules_runs_defaults_then_computed_then_validation(rules):
    out = apply_rules(
        rules, {"amount": "1000", "discount": "50", "quantity": 1}, creating=True, now=NOW
    )
    assert out.values["close_date"] == "2025-04-02"
    assert out.values["price"] == {"amount": "500.00", "currency": "EUR"}
    assert [p.rule for p in out.problems] == ["discount_cap"]


def test_rule_declarations_are_checked_with_pointers(rules_doc, opportunity):
    rules_doc["validations"][0]["expression"] = "record.discount <= '40'"
    rules_doc["validations"][1]["field"] = "closing_date"
    rules_doc["computed"][0]["expression"] = "record.amount > 1.0"
    rules_doc["defaults"].append({"field": "price", "expression": "1.0"})
    rules_doc["formRules"][0]["hide"] = ["lost_reason"]
    rules_doc["formRules"].append({"name": "x", "when": "true"})
    assert errors_of(rules_doc, opportunity) == {
        "/formRules/3": "needs 'show' or 'hide' or 'require' or 'readOnly'",
    }
    rules_doc["formRules"].pop()
    assert errors_of(rules_doc, opportunity) == {
        "/validations/0/expression": "rule 'discount_cap': 1:17: '<=' cannot compare "
        'record.discount (decimal field, double in CEL) with "40" (string)',
        "/validations/1/field": "sales.opportunity has no field 'closing_date'",
        "/computed/0/expression": "formula of 'net_amount': 1:1: gives bool, which cannot be "
        "stored in field 'net_amount' (decimal field)",
        "/defaults/3/field": "'price' is computed; a default would be overwritten",
        "/formRules/0": "form rule 'lost_reason' both shows and hides 'lost_reason'",
    }
