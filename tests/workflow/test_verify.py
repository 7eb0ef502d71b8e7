"""Static verification before activation: everything saving checks, plus roles and plugin
actions that must exist and the shape of the state graph. Errors block activation; warnings
are shown."""

from __future__ import annotations

import pytest

from xrm.workflow import check_workflow, verify

ROLES = {"sales_rep", "sales_manager", "sales_director"}


def findings(doc, entity, roles=ROLES, actions=(), **kw):
    return [str(f) for f in verify(doc, entity, roles, actions, **kw)]


def test_the_example_workflow_verifies_cleanly(discount_doc, opportunity):
    assert findings(discount_doc, opportunity) == []


def test_a_compiled_workflow_can_be_verified_too(discount_doc, opportunity):
    assert verify(check_workflow(discount_doc, opportunity), opportunity, ROLES, ()) == []


def test_unknown_roles_are_errors(discount_doc, opportunity):
    assert findings(discount_doc, opportunity, roles={"sales_rep", "sales_manager"}) == [
        "error: /transitions/0/approvals/1/role: unknown role 'sales_director'"
    ]


def test_an_unreachable_state_is_a_warning(discount_doc, opportunity):
    discount_doc["transitions"] = [t for t in discount_doc["transitions"] if t["name"] != "reopen"]
    discount_doc["transitions"].append({"name": "archive", "from": "lost", "to": "lost"})
    discount_doc["transitions"] = [t for t in discount_doc["transitions"] if t["to"] != "lost"]
    discount_doc["states"]["quoted"]["timers"].pop()
    assert findings(discount_doc, opportunity) == [
        "warning: /states/lost: state 'lost' cannot be reached from the initial state 'draft'"
    ]


def test_a_state_from_which_no_final_state_can_be_reached_is_an_error(discount_doc, opportunity):
    discount_doc["states"]["won"]["final"] = False
    discount_doc["states"]["lost"]["final"] = False
    assert findings(discount_doc, opportunity) == [
        "error: /states: no state is final: records could never be completed"
    ]
    discount_doc["states"]["lost"]["final"] = True
    assert findings(discount_doc, opportunity) == [
        "error: /states/won: no final state can be reached from state 'won': records there would be stuck"
    ]


def test_plugin_actions_must_be_registered(discount_doc, opportunity):
    discount_doc["transitions"][1]["actions"] = [
        {"type": "erp.book_order", "params": {"ledger": 4}}
    ]
    assert findings(discount_doc, opportunity, actions=["crm.send_quote"]) == [
        "error: /transitions/1/actions/0/type: unknown action type 'erp.book_order' "
        "(registered: crm.send_quote)"
    ]
    assert findings(discount_doc, opportunity, actions=["erp.book_order"]) == []


def test_plugin_action_parameters_are_checked_against_the_registered_schema(
    discount_doc, opportunity
):
    discount_doc["transitions"][1]["actions"] = [
        {"type": "erp.book_order", "params": {"ledger": "x"}}
    ]
    schema = {
        "type": "object",
        "properties": {"ledger": {"type": "integer"}},
        "required": ["ledger"],
    }
    assert findings(discount_doc, opportunity, actions={"erp.book_order": schema}) == [
        "error: /transitions/1/actions/0/params/ledger: erp.book_order: 'x' is not of type 'integer'"
    ]


def test_a_target_state_requirement_nobody_fills_is_a_warning(discount_doc, opportunity):
    discount_doc["states"]["won"]["required"] = ["close_date"]
    assert findings(discount_doc, opportunity) == [
        "warning: /transitions/1: state 'won' requires 'close_date', which transition 'win' "
        "neither asks for (fields) nor sets; it must be filled beforehand"
    ]


def test_create_record_targets_are_checked_when_their_definitions_are_given(
    discount_doc, opportunity
):
    discount_doc["transitions"][1]["actions"] = [
        {"type": "createRecord", "entity": "sales.order", "values": {"title": "record.name"}}
    ]
    assert findings(discount_doc, opportunity) == [
        "warning: /transitions/1/actions/0/entity: the fields of 'sales.order' were not checked "
        "(no entity definitions given)"
    ]
    assert findings(discount_doc, opportunity, entities={}) == [
        "error: /transitions/1/actions/0/entity: entity 'sales.order' does not exist"
    ]


def test_a_transition_nobody_can_take_is_an_error(discount_doc, opportunity):
    discount_doc["transitions"][1]["notByOwner"] = True
    assert findings(discount_doc, opportunity) == [
        "error: /transitions/1: transition 'win' is both ownerOnly and notByOwner: nobody can take it"
    ]


def test_errors_come_before_warnings(discount_doc, opportunity):
    discount_doc["states"]["won"]["required"] = ["close_date"]
    discount_doc["transitions"][0]["roles"] = ["nobody"]
    assert [f.severity for f in verify(discount_doc, opportunity, ROLES, ())] == [
        "error",
        "warning",
    ]


@pytest.mark.parametrize("roles", [None])
def test_checks_without_context_can_be_skipped(discount_doc, opportunity, roles):
    discount_doc["transitions"][0]["roles"] = ["nobody"]
    assert findings(discount_doc, opportunity, roles=roles) == []
