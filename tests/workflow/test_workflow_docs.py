"""The complete example in docs/workflows.md is valid, verifies cleanly and behaves as the page
says: the documents are read from the page itself."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from engine_support import NOW

from xrm.metadata.validation import check_all
from xrm.workflow import (
    SYSTEM,
    Actor,
    TransitionInput,
    TransitionRefused,
    approve,
    available_transitions,
    check_workflow,
    due_timers,
    fire,
    fire_timer,
    verify,
)
from xrm.workflow.rules import apply_rules, check_rules, form_state

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"
EXAMPLE = re.compile(r"<!-- example: (\w+) ([\w.]+) -->\s*```json\n(.*?)```", re.S)
ROLES = {"sales_rep", "sales_manager", "sales_director"}
REP, MANAGER, DIRECTOR = (
    Actor(1, {"sales_rep"}),
    Actor(2, {"sales_manager"}),
    Actor(3, {"sales_director"}),
)


@pytest.fixture(scope="module")
def examples() -> dict[tuple[str, str], dict]:
    found = {
        (kind, name): json.loads(body) for kind, name, body in EXAMPLE.findall(DOC.read_text())
    }
    assert set(found) == {
        ("entity", "crm.lead"),
        ("entity", "crm.opportunity"),
        ("workflow", "crm.lead_qualification"),
        ("workflow", "crm.discount_approval"),
        ("rules", "crm.opportunity_rules"),
    }
    return found


@pytest.fixture(scope="module")
def entities(examples):
    lead, opportunity = check_all(
        [examples["entity", "crm.lead"], examples["entity", "crm.opportunity"]], {}
    )
    return {"crm.lead": lead, "crm.opportunity": opportunity}


@pytest.fixture(scope="module")
def lead_wf(examples, entities):
    return check_workflow(
        examples["workflow", "crm.lead_qualification"], entities["crm.lead"], entities
    )


@pytest.fixture(scope="module")
def discount_wf(examples, entities):
    doc = examples["workflow", "crm.discount_approval"]
    return check_workflow(doc, entities["crm.opportunity"], entities)


@pytest.mark.parametrize(
    ("name", "entity"),
    [("crm.lead_qualification", "crm.lead"), ("crm.discount_approval", "crm.opportunity")],
)
def test_the_example_workflows_verify_without_errors_or_warnings(examples, entities, name, entity):
    assert verify(examples["workflow", name], entities[entity], ROLES, (), entities) == []


def test_a_lead_is_contacted_qualified_and_converted(lead_wf):
    lead = {"id": 11, "owner_id": 1, "company": "ACME", "status": "new", "source": "web"}
    contacted = fire(
        lead_wf,
        "contact",
        lead,
        REP,
        1,
        TransitionInput(values={"follow_up_on": "2025-03-10"}),
        now=NOW,
    )
    lead |= contacted.values
    assert lead["status"] == "contacted" and lead["contacted_at"] == "2025-03-03T09:00:00Z"

    qualify = {o.name: o for o in available_transitions(lead_wf, lead, REP, 1, now=NOW)}["qualify"]
    assert [r.code for r in qualify.reasons] == ["missing_fields"]  # the guard waits for them
    low = TransitionInput(values={"budget": "2000", "score": 80})
    with pytest.raises(TransitionRefused, match="a qualified lead has a budget of at least 5,000"):
        fire(lead_wf, "qualify", lead, REP, 1, low, now=NOW)
    lead |= fire(
        lead_wf,
        "qualify",
        lead,
        REP,
        1,
        TransitionInput(values={"budget": "12000", "score": 80}),
        now=NOW,
    ).values

    converted = fire(lead_wf, "convert", lead, REP, 1, now=NOW)
    assert converted.to_state == "converted"
    assert [e.as_dict()["data"] for e in converted.effects] == [
        {
            "entity": "crm.opportunity",
            "values": {"name": "ACME - new business", "lead": 11, "amount": "12000.00"},
        },
        {
            "users": [],
            "roles": ["sales_manager"],
            "subject": "ACME converted",
            "body": "Budget 12000, source web.",
        },
        {
            "url": "https://erp.example.com/hooks/lead-converted",
            "method": "POST",
            "payload": {"lead": 11, "company": "ACME"},
        },
    ]


def test_a_lead_can_be_disqualified_from_any_open_state_with_a_reason_and_a_comment(lead_wf):
    for status in ("new", "contacted", "qualified"):
        lead = {
            "id": 11,
            "owner_id": 1,
            "company": "ACME",
            "status": status,
            "budget": "9000",
            "contacted_at": "2025-03-01T10:00:00Z",
        }
        given = TransitionInput(
            comment="they chose a competitor", values={"disqualify_reason": "competitor"}
        )
        assert fire(lead_wf, "disqualify", lead, REP, 1, given, now=NOW).to_state == "disqualified"


def test_a_silent_lead_alerts_after_two_days_and_is_given_up_after_thirty(lead_wf):
    entered = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    new = {"id": 11, "owner_id": 1, "company": "ACME", "status": "new"}
    (due,) = due_timers(lead_wf, new, entered, entered + dt.timedelta(days=2))
    assert fire_timer(lead_wf, due, new, 1, now=NOW).effects[0].data["subject"] == (
        "Lead ACME has waited two days for a first contact"
    )
    contacted = {**new, "status": "contacted", "contacted_at": "2025-03-01T00:00:00Z"}
    (due,) = due_timers(lead_wf, contacted, entered, entered + dt.timedelta(days=30))
    firing = fire_timer(lead_wf, due, contacted, 1, now=NOW)
    assert dict(firing.values) == {"disqualify_reason": "unreachable", "status": "disqualified"}


def test_the_python_walkthrough_on_the_page_holds(discount_wf):
    record = {
        "id": 7,
        "owner_id": 1,
        "name": "ACME",
        "stage": "draft",
        "amount": "10000.00",
        "discount": "30",
    }
    quote = TransitionInput(values={"valid_until": "2025-04-30"})
    (option,) = [
        o
        for o in available_transitions(discount_wf, record, REP, 1, quote, now=NOW)
        if o.name == "send_quote"
    ]
    assert [(r.code, r.message, r.status) for r in option.reasons] == [
        ("approvals_pending", "waiting for approval: Sales manager, Sales director", 409)
    ]
    approvals = [
        approve(discount_wf, "send_quote", "manager", record, MANAGER, 1, now=NOW),
        approve(discount_wf, "send_quote", "director", record, DIRECTOR, 1, now=NOW),
    ]
    assert dict(
        fire(discount_wf, "send_quote", record, REP, 1, quote, approvals, now=NOW).values
    ) == {
        "valid_until": "2025-04-30",
        "quoted_at": "2025-03-03T09:00:00Z",
        "stage": "quoted",
    }


def test_an_expired_quote_is_lost_the_day_after_valid_until(discount_wf):
    record = {
        "id": 7,
        "owner_id": 1,
        "name": "ACME",
        "stage": "quoted",
        "amount": "100",
        "valid_until": "2025-03-10",
    }
    entered = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert (
        due_timers(discount_wf, record, entered, dt.datetime(2025, 3, 10, 23, tzinfo=dt.UTC)) == []
    )
    (due,) = due_timers(discount_wf, record, entered, dt.datetime(2025, 3, 11, tzinfo=dt.UTC))
    assert fire_timer(discount_wf, due, record, 1, now=NOW).to_state == "lost"
    assert (
        fire(discount_wf, "expire", record, SYSTEM, 1, now=NOW).values["lost_reason"]
        == "quote expired"
    )


def test_the_opportunity_rules_compute_default_and_validate(examples, entities, discount_wf):
    rules = check_rules(examples["rules", "crm.opportunity_rules"], entities["crm.opportunity"])
    new = {"name": "ACME", "stage": "draft", "amount": "10000", "discount": "45"}
    out = apply_rules(rules, new, creating=True, now=NOW)
    assert out.values == {"valid_until": "2025-04-02", "net_amount": "5500.00"}
    assert [p.message for p in out.problems] == ["a discount above 40% is never granted"]
    lost = {"stage": "lost", "amount": "1"}
    assert "lost_reason" in form_state(rules, lost, workflow=discount_wf).required
    assert "lost_reason" in form_state(rules, {"stage": "draft"}, workflow=discount_wf).hidden
