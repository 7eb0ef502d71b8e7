"""Reusable option sets: shared lists of choices resolved into each field's enum."""

from __future__ import annotations

import pytest

from xrm.core.context import SYSTEM
from xrm.core.records.service import RecordService
from xrm.metadata.errors import DefinitionInvalid, PlanRefused

INDUSTRY = {
    "name": "crm.industry",
    "label": "Industry",
    "options": [{"value": "retail", "label": "Retail"}, {"value": "tech", "label": "Technology"}],
}


def account(field_type="choice"):
    prop = {"x-xrm": {"type": field_type, "optionSet": "crm.industry"}}
    return {
        "x-xrm": {"name": "crm.account"},
        "properties": {"name": {"type": "string"}, "industry": prop},
    }


def test_a_field_takes_its_values_and_labels_from_the_option_set(registry):
    registry.apply(registry.plan([INDUSTRY, account()]))
    ce = registry.snapshot().entity("crm.account")
    assert list(ce.fields["industry"].spec.kw("enum")) == ["retail", "tech"]
    labels = [o["label"] for o in ce.form_spec["fields"][1]["options"]]
    assert labels == ["Retail", "Technology"]


def test_an_unknown_option_set_is_a_problem_with_a_pointer(registry):
    with pytest.raises(DefinitionInvalid) as exc:
        registry.plan([account()])
    assert any(
        p.pointer.endswith("/properties/industry/x-xrm/optionSet") for p in exc.value.problems
    )


def test_an_invalid_option_set_reports_every_problem(registry):
    with pytest.raises(DefinitionInvalid) as exc:
        registry.plan([{"name": "Bad", "options": []}])
    pointers = {p.pointer for p in exc.value.problems}
    assert pointers == {"/name", "/options"}


def test_adding_a_value_to_the_set_updates_every_field_that_uses_it(registry):
    registry.apply(
        registry.plan(
            [
                INDUSTRY,
                account(),
                {
                    "x-xrm": {"name": "crm.lead"},
                    "properties": {
                        "sector": {"x-xrm": {"type": "multichoice", "optionSet": "crm.industry"}}
                    },
                },
            ]
        )
    )
    bigger = {**INDUSTRY, "options": [*INDUSTRY["options"], {"value": "health"}]}
    plan = registry.plan([bigger])
    assert sorted(op.entity for op in plan.operations) == ["crm.account", "crm.lead"]
    assert plan.risk.value == "safe"
    registry.apply(plan)
    snap = registry.snapshot()
    assert "health" in snap.entity("crm.account").fields["industry"].spec.kw("enum")
    assert "health" in snap.entity("crm.lead").fields["sector"].spec.kw("enum")
    assert registry.option_sets()["crm.industry"] == bigger


def test_removing_a_value_still_in_use_is_refused(registry, engine):
    registry.apply(registry.plan([INDUSTRY, account()]))
    with engine.begin() as conn:
        RecordService(registry).create(
            conn, SYSTEM, "crm.account", {"name": "Shop", "industry": "retail"}
        )
    smaller = {**INDUSTRY, "options": [{"value": "tech"}]}
    plan = registry.plan([smaller])
    assert plan.risk.value == "checked"
    with pytest.raises(PlanRefused, match="1 row"):
        registry.apply(plan, confirm=True)
    assert registry.option_sets()["crm.industry"] == INDUSTRY


def test_an_unsupported_json_schema_keyword_is_reported_not_ignored():
    from xrm.metadata.validation import check_definition

    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {"n": {"type": "string", "allOf": [{"minLength": 1}]}},
    }
    with pytest.raises(DefinitionInvalid) as exc:
        check_definition(doc, {})
    assert [p.pointer for p in exc.value.problems] == ["/properties/n"]
    assert "allOf" in exc.value.problems[0].message


def test_an_invalid_regular_expression_is_reported():
    from xrm.metadata.validation import check_definition

    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"code": {"type": "string", "pattern": "[a-"}}}
    with pytest.raises(DefinitionInvalid) as exc:
        check_definition(doc, {})
    assert [p.pointer for p in exc.value.problems] == ["/properties/code/pattern"]
