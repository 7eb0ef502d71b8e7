"""Entity changes against the stored workflows and rule sets (a plan that would break one is
refused with the document and the field named; a renamed field is followed), and several
workflows on one entity, each on its own state field."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa
from runtime_support import build_env, opportunity_doc

from xrm.core.records.errors import RecordInvalid
from xrm.core.workflows import NoWorkflow
from xrm.core.workflows.tables import document, document_history
from xrm.metadata.errors import PlanRefused
from xrm.workflow.errors import WorkflowInvalid

RULES = {
    "name": "sales.opportunity_rules",
    "entity": "sales.opportunity",
    "validations": [
        {
            "name": "cap",
            "field": "discount",
            "expression": "record.discount <= 40.0",
            "message": "too much",
        }
    ],
}

ROLLUPS = {
    "name": "sales.account_rules",
    "entity": "sales.account",
    "rollups": [
        {
            "field": "open_amount",
            "entity": "sales.opportunity",
            "via": "account",
            "aggregate": "sum",
            "of": "amount",
            "filter": {"quantity": {"gte": 1}},
        }
    ],
}


@pytest.fixture
def env(make_app):
    return build_env(make_app)


def _without(field: str) -> dict:
    doc = opportunity_doc()
    del doc["properties"][field]
    doc["required"] = [f for f in doc["required"] if f != field]
    return doc


def _renamed(old: str, new: str, doc: dict | None = None) -> dict:
    doc = copy.deepcopy(doc) if doc is not None else opportunity_doc()
    spec = doc["properties"].pop(old)
    spec = {**spec, "x-xrm": {**spec.get("x-xrm", {}), "renamedFrom": old}}
    doc["properties"][new] = spec
    doc["required"] = [new if f == old else f for f in doc["required"]]
    return doc


def _fields(env) -> set[str]:
    with env.platform.engine.connect() as conn:
        return {
            f.name
            for f in env.platform.registry.snapshot(conn).definitions["sales.opportunity"].fields
        }


def test_removing_the_state_field_is_refused_naming_the_workflow(env):
    reg = env.platform.registry
    plan = reg.plan([_without("stage")])
    messages = [p.message for p in plan.problems]
    assert any("workflow 'sales.discount_approval'" in m and "'stage'" in m for m in messages), (
        messages
    )
    assert plan.as_dict()["problems"]  # the plan shows it
    with pytest.raises(PlanRefused) as exc:
        reg.apply(plan, confirm=True)
    assert "sales.discount_approval" in str(exc.value)
    assert "stage" in _fields(env)  # nothing applied
    rec = env.create(env.users["rep"], {"name": "still enforced"})
    assert rec["stage"] == "draft"


def test_removing_a_field_a_guard_or_rule_uses_is_refused(env):
    env.save("rules", json.loads(json.dumps(RULES)))
    reg = env.platform.registry
    # ``amount`` is read by the workflow's guard; ``discount`` by an approval and the rule set.
    plan = reg.plan([_without("discount")])
    text = " | ".join(p.message for p in plan.problems)
    assert "rule set 'sales.opportunity_rules'" in text and "discount" in text
    assert "workflow 'sales.discount_approval'" in text
    plan = reg.plan([_without("amount")])
    assert any(
        "workflow 'sales.discount_approval'" in p.message and "amount" in p.message
        for p in plan.problems
    )
    with pytest.raises(PlanRefused):
        reg.apply_documents([_without("amount")], confirm=True)
    assert {"amount", "discount"} <= _fields(env)
    # A roll-up over a removed child field.
    env.save("rules", json.loads(json.dumps(ROLLUPS)))
    plan = reg.plan([_without("quantity")])
    assert any(
        "rule set 'sales.account_rules'" in p.message and "/rollups/0/filter/quantity" in p.message
        for p in plan.problems
    ), plan.problems
    # A field nothing uses goes as before.
    reg.apply_documents([_without("close_date")], confirm=True)
    assert "close_date" not in _fields(env)


def test_a_renamed_field_is_followed_by_the_documents(env):
    env.save("rules", json.loads(json.dumps(RULES)))
    env.save("rules", json.loads(json.dumps(ROLLUPS)))
    reg = env.platform.registry
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "100", "discount": "5", "quantity": 2})
    first = _renamed("discount", "rebate")
    plan = reg.plan([first])
    assert plan.problems == []
    assert plan.as_dict()["followed"] == [
        {"kind": "rules", "name": "sales.opportunity_rules"},
        {"kind": "workflow", "name": "sales.discount_approval"},
    ]
    reg.apply(plan, confirm=True)
    with env.tx() as conn:
        rows = {
            r.name: json.loads(r.document)
            for r in conn.execute(sa.select(document.c.name, document.c.document))
        }
        revisions = conn.execute(
            sa.select(document_history.c.revision).where(
                document_history.c.name == "sales.opportunity_rules"
            )
        ).all()
    rules = rows["sales.opportunity_rules"]["validations"][0]
    assert rules["field"] == "rebate" and rules["expression"] == "record.rebate <= 40.0"
    steps = rows["sales.discount_approval"]["transitions"][0]["approvals"]
    assert [s["when"] for s in steps] == ["record.rebate > 10.0", "record.rebate > 25.0"]
    assert len(revisions) == 2  # the rename is a new revision
    # Enforced under the new name.
    with pytest.raises(RecordInvalid) as exc:
        env.update(rep, rec["id"], {"rebate": "50"})
    assert exc.value.problems[0]["field"] == "rebate"
    assert exc.value.problems[0]["message"] == "too much"
    # The state field renamed, and a roll-up's child field renamed.
    second = _renamed("quantity", "units", first)
    reg.apply_documents([second], confirm=True)
    with env.tx() as conn:
        roll = json.loads(
            conn.execute(
                sa.select(document.c.document).where(document.c.name == "sales.account_rules")
            ).scalar()
        )
    assert roll["rollups"][0]["filter"] == {"units": {"gte": 1}}
    reg.apply_documents([_renamed("stage", "phase", second)], confirm=True)
    got = env.fire(env.users["rep"], rec["id"], "lose", comment="gone", values={"lost_reason": "x"})
    assert got["phase"] == "lost"


# -- several workflows on one entity ------------------------------------------------------------

DELIVERY = {
    "name": "sales.delivery",
    "label": "Delivery",
    "entity": "sales.opportunity",
    "stateField": "priority",
    "states": {
        "low": {"label": "Waiting", "initial": True},
        "normal": {"label": "Packing"},
        "high": {"label": "Shipped", "final": True},
    },
    "transitions": [
        {"name": "pack", "from": "low", "to": "normal"},
        {"name": "ship", "from": "normal", "to": "high"},
        {"name": "lose", "from": "low", "to": "high"},
    ],
}


def test_several_workflows_each_on_its_own_state_field(env):
    env.save("workflow", copy.deepcopy(DELIVERY))
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "10"})
    assert (rec["stage"], rec["priority"]) == ("draft", "low")  # both initial states
    with env.tx() as conn:
        listing = env.wf.transitions(conn, rep, "sales.opportunity", rec["id"])
    by_name = {w["workflow"]: w for w in listing["workflows"]}
    assert set(by_name) == {"sales.delivery", "sales.discount_approval"}
    assert by_name["sales.delivery"]["stateField"] == "priority"
    assert {t["name"] for t in by_name["sales.delivery"]["transitions"]} == {"pack", "lose"}
    assert "send_quote" in {t["name"] for t in by_name["sales.discount_approval"]["transitions"]}
    assert listing["workflow"] == listing["workflows"][0]["workflow"]  # first one at the top
    got = env.fire(rep, rec["id"], "pack")
    assert (got["stage"], got["priority"]) == ("draft", "normal")
    # Each state field is enforced by its own workflow: no transition leads back to "low".
    with pytest.raises(RecordInvalid) as exc:
        env.update(rep, rec["id"], {"priority": "low"})
    assert "workflow 'sales.delivery'" in exc.value.problems[0]["message"]
    # ``lose`` exists in both; the workflow is chosen by name.
    got = env.fire(
        rep,
        rec["id"],
        "lose",
        workflow="sales.discount_approval",
        comment="no",
        values={"lost_reason": "x"},
    )
    assert (got["stage"], got["priority"]) == ("lost", "normal")
    with pytest.raises(NoWorkflow):
        env.fire(rep, rec["id"], "ship", workflow="sales.nope")
    with env.tx() as conn:
        stays = env.wf.state_history(conn, rep, "sales.opportunity", rec["id"])
    assert {(s["workflow"], s["state"]) for s in stays if s["leftAt"] is None} == {
        ("sales.delivery", "normal"),
        ("sales.discount_approval", "lost"),
    }


def test_a_second_workflow_on_the_same_state_field_is_refused(env):
    doc = copy.deepcopy(DELIVERY)
    doc["stateField"] = "stage"
    doc["states"] = {
        "draft": {"initial": True},
        "quoted": {},
        "won": {"final": True},
        "lost": {"final": True},
    }
    doc["transitions"] = [
        {"name": "go", "from": "draft", "to": "quoted"},
        {"name": "end", "from": "quoted", "to": "won"},
        {"name": "drop", "from": "quoted", "to": "lost"},
    ]
    with pytest.raises(WorkflowInvalid) as exc:
        env.save("workflow", doc)
    assert "sales.discount_approval" in str(exc.value.problems)
    assert "already drives sales.opportunity.stage" in str(exc.value.problems)


def test_transitions_over_http_list_every_workflow(env):
    env.save("workflow", copy.deepcopy(DELIVERY))
    rec = env.create(env.users["admin"], {"name": "ACME", "amount": "10"})
    client = env.app.test_client()
    res = client.post(
        "/api/v1/security/login",
        json={"username": "admin", "password": "admin-password-for-tests", "provider": "db"},
    )
    h = {"Authorization": f"Bearer {res.json['access_token']}"}
    r = client.get(f"/api/v1/data/sales.opportunity/{rec['id']}/transitions", headers=h)
    assert r.status_code == 200, r.get_json()
    assert {w["workflow"] for w in r.get_json()["workflows"]} == {
        "sales.delivery",
        "sales.discount_approval",
    }
    r = client.post(
        f"/api/v1/data/sales.opportunity/{rec['id']}/transitions/pack",
        json={"workflow": "sales.delivery"},
        headers=h,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["priority"] == "normal"
