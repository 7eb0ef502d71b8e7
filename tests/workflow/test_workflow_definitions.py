"""Workflow definitions are JSON documents with a published meta-schema. Saving one reports
every problem at once, each at a JSON pointer: structure, references to states and fields, and
expressions that do not compile or do not fit the entity's fields."""

from __future__ import annotations

import copy
import json

import pytest
from engine_support import OPPORTUNITY
from jsonschema import Draft202012Validator

from xrm.metadata.validation import check_definition
from xrm.workflow import CompiledCache, WorkflowInvalid, check_workflow, workflow_findings
from xrm.workflow.metaschema import (
    RULES_SCHEMA_FILE,
    WORKFLOW_SCHEMA_FILE,
    build_rules_metaschema,
    build_workflow_metaschema,
)


def errors_of(doc, entity) -> dict[str, str]:
    with pytest.raises(WorkflowInvalid) as info:
        check_workflow(doc, entity)
    return {p.pointer: p.message for p in info.value.problems}


def test_the_shipped_meta_schemas_match_the_action_type_registry():
    assert json.loads(WORKFLOW_SCHEMA_FILE.read_text()) == build_workflow_metaschema()
    assert json.loads(RULES_SCHEMA_FILE.read_text()) == build_rules_metaschema()


def test_the_meta_schemas_are_valid_json_schema_2020_12():
    Draft202012Validator.check_schema(build_workflow_metaschema())
    Draft202012Validator.check_schema(build_rules_metaschema())


def test_a_valid_definition_compiles(discount_doc, opportunity):
    wf = check_workflow(discount_doc, opportunity)
    assert wf.definition.state_names == ("draft", "quoted", "won", "lost")
    assert wf.definition.initial_state.name == "draft"
    assert wf.transition("send_quote").guard.fields == {"amount"}


def test_structural_mistakes_are_all_reported_with_pointers(opportunity):
    doc = {
        "name": "Sales.Bad",
        "entity": "sales.opportunity",
        "stateField": "stage",
        "states": {"draft": {"initial": "yes", "colour": "red", "bogus": 1}},
        "transitions": [
            {"name": "go", "to": "draft"},
            {"name": "x", "from": "draft", "to": "draft", "actions": [{"type": "sendFax"}]},
        ],
        "extra": True,
    }
    assert errors_of(doc, opportunity) == {
        "/extra": "'extra' is not allowed here",
        "/name": "'Sales.Bad' does not match '^[a-z][a-z0-9]{1,15}\\\\.[a-z][a-z0-9_]{0,39}$'",
        "/states/draft/bogus": "'bogus' is not allowed here",
        "/states/draft/colour": "'red' does not match '^#[0-9a-fA-F]{6}$'",
        "/states/draft/initial": "'yes' is not of type 'boolean'",
        "/transitions/0": "'from' is required",
        "/transitions/1/actions/0/type": "'sendFax' is not an action type (built-in: createRecord, "
        "notify, setFields, webhook; a plugin's are namespaced, e.g. crm.send_quote)",
    }


def test_a_timer_needs_exactly_one_of_after_or_at(discount_doc, opportunity):
    discount_doc["states"]["draft"]["timers"] = [
        {"name": "a", "actions": [{"type": "notify", "to": {"owner": True}, "subject": "x"}]},
        {"name": "b", "after": "P1D", "at": "close_date", "transition": "lose"},
        {"name": "c", "after": "two days", "transition": "lose"},
    ]
    found = errors_of(discount_doc, opportunity)
    assert found["/states/draft/timers/0"] == "needs 'after' or 'at'"
    assert found["/states/draft/timers/1"] == "give only one of 'after' or 'at'"
    assert "/states/draft/timers/2/after" in found


def test_a_timer_counts_forward_from_entering_the_state(discount_doc, opportunity):
    discount_doc["states"]["draft"]["timers"] = [
        {"name": "d", "after": "-P1D", "transition": "lose"}
    ]
    assert errors_of(discount_doc, opportunity) == {
        "/states/draft/timers/0/after": "'after' counts forward from entering the state; "
        "it cannot be negative"
    }


def test_an_action_type_takes_only_its_own_parameters(discount_doc, opportunity):
    discount_doc["transitions"][1]["actions"] = [
        {"type": "setFields", "values": {"notes": "'x'"}, "url": "https://x"},
        {"type": "webhook"},
        {"type": "crm.send_quote", "params": {"template": "q1"}, "values": {}},
    ]
    found = errors_of(discount_doc, opportunity)
    assert set(found) == {
        "/transitions/1/actions/0/url",
        "/transitions/1/actions/1",
        "/transitions/1/actions/2/values",
    }
    assert found["/transitions/1/actions/1"] == "'url' is required"


def test_references_to_states_and_fields_must_exist(discount_doc, opportunity):
    discount_doc["states"]["quoted"]["required"] = ["valid_untill"]
    discount_doc["transitions"][1]["from"] = ["quoted", "negotiating"]
    discount_doc["transitions"][1]["to"] = "closed"
    discount_doc["transitions"][2]["requiredFields"] = ["stage"]
    assert errors_of(discount_doc, opportunity) == {
        "/states/quoted/required/0": "sales.opportunity has no field 'valid_untill'",
        "/transitions/1/from/1": "transition 'win' leaves unknown state 'negotiating'",
        "/transitions/1/to": "transition 'win' goes to unknown state 'closed'",
        "/transitions/2/requiredFields/0": "'stage' is the state field; transitions change it",
    }


def test_states_must_be_options_of_a_choice_state_field(discount_doc, opportunity):
    discount_doc["states"]["negotiating"] = {}
    found = errors_of(discount_doc, opportunity)
    assert found["/states/negotiating"] == (
        "state 'negotiating' is not an option of field 'stage' (draft, quoted, won, lost)"
    )


def test_the_state_field_must_be_a_choice_or_text_field(discount_doc, opportunity):
    discount_doc["stateField"] = "amount"
    assert errors_of(discount_doc, opportunity)["/stateField"] == (
        "the state field must be a choice or text field; 'amount' is decimal"
    )


def test_exactly_one_state_is_initial(discount_doc, opportunity):
    discount_doc["states"]["quoted"]["initial"] = True
    assert errors_of(discount_doc, opportunity)["/states"] == (
        "exactly one state must be initial; found draft, quoted"
    )


def test_two_transitions_with_the_same_name_may_not_leave_one_state(discount_doc, opportunity):
    discount_doc["transitions"].append({"name": "lose", "from": "quoted", "to": "draft"})
    assert errors_of(discount_doc, opportunity) == {
        "/transitions/5/name": "two transitions named 'lose' leave state 'quoted' "
        "(the other is /transitions/2)"
    }


def test_a_guard_type_error_names_the_rule_the_position_and_the_problem(discount_doc, opportunity):
    discount_doc["transitions"][0]["guard"] = "record.amount > 'a lot'"
    assert errors_of(discount_doc, opportunity) == {
        "/transitions/0/guard": "guard of transition 'send_quote': 1:15: '>' cannot compare "
        'record.amount (decimal field, double in CEL) with "a lot" (string)'
    }


def test_every_expression_in_the_definition_is_checked(discount_doc, opportunity):
    t = discount_doc["transitions"][0]
    t["approvals"][0]["when"] = "record.discont > 10.0"
    t["actions"][0]["values"]["quoted_at"] = "record.amount"
    t["actions"][1]["payload"]["net"] = "record.net_amount +"
    discount_doc["states"]["quoted"]["timers"][0]["actions"][0]["subject"] = "{{ record.nam }}"
    assert errors_of(discount_doc, opportunity) == {
        "/transitions/0/approvals/0/when": "condition of approval 'manager': 1:8: "
        "sales.opportunity has no field 'discont' (did you mean 'discount'?)",
        "/transitions/0/actions/0/values/quoted_at": "value of 'quoted_at' (setFields): 1:1: "
        "gives double, which cannot be stored in field 'quoted_at' (datetime field)",
        "/transitions/0/actions/1/payload/net": "payload 'net': 1:20: "
        "Syntax error: unexpected end of the expression",
        "/states/quoted/timers/0/actions/0/subject": "subject, placeholder 1: 1:8: "
        "sales.opportunity has no field 'nam' (did you mean 'name'?)",
    }


def test_actions_may_not_set_the_state_field_or_platform_fields(discount_doc, opportunity):
    discount_doc["transitions"][1]["actions"] = [
        {"type": "setFields", "values": {"stage": "'won'", "owner_id": "1", "nope": "1"}}
    ]
    assert errors_of(discount_doc, opportunity) == {
        "/transitions/1/actions/0/values/stage": "'stage' is the workflow's state field; "
        "it changes only by transitions",
        "/transitions/1/actions/0/values/owner_id": "'owner_id' is set by the platform, not by actions",
        "/transitions/1/actions/0/values/nope": "sales.opportunity has no field 'nope'",
    }


def test_a_timer_waits_for_a_date_field_and_takes_a_transition_of_its_state(
    discount_doc, opportunity
):
    timers = discount_doc["states"]["quoted"]["timers"]
    timers[1]["at"] = "amount"
    timers.append({"name": "expire", "after": "P30D", "transition": "reopen"})
    assert errors_of(discount_doc, opportunity) == {
        "/states/quoted/timers/1/at": "a timer waits for a date or datetime field; 'amount' is decimal",
        "/states/quoted/timers/2/name": "state 'quoted' has two timers named 'expire'",
        "/states/quoted/timers/2/transition": "no transition 'reopen' leaves state 'quoted'",
    }


def test_warnings_do_not_block_saving(discount_doc):
    doc = copy.deepcopy(OPPORTUNITY)
    doc["properties"]["stage"]["enum"].append("archived")
    entity = check_definition(doc, {})
    findings, _ = workflow_findings(discount_doc, entity)
    assert [str(f) for f in findings] == [
        "warning: /stateField: option 'archived' of field 'stage' is not a state of the workflow"
    ]
    assert check_workflow(discount_doc, entity) is not None


def test_a_compiled_cache_compiles_each_version_once(discount_doc, opportunity):
    cache = CompiledCache()
    first = check_workflow(discount_doc, opportunity, cache=cache)
    again = check_workflow(json.loads(json.dumps(discount_doc)), opportunity, cache=cache)
    assert again is first and cache.compilations == 1
    discount_doc["label"] = "Discount approval v2"
    assert check_workflow(discount_doc, opportunity, cache=cache) is not first
    assert cache.compilations == 2
