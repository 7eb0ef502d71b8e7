"""Roll-up filters with comparison operators, kept current on child create, update, delete and
re-parenting; computed fields and roll-ups are read-only to users (the engine writes them)."""

from __future__ import annotations

import copy
import json

import pytest
from runtime_support import ACCOUNT, build_env

from xrm.core.records.errors import RecordInvalid
from xrm.workflow.errors import WorkflowInvalid

#: An account whose roll-up fields are NOT marked readOnly in the definition: the rule set
#: alone makes them read-only.
WRITABLE_ACCOUNT = copy.deepcopy(ACCOUNT)
for _f in ("open_amount", "deals", "biggest"):
    WRITABLE_ACCOUNT["properties"][_f].pop("readOnly")

ROLLUPS = {
    "name": "sales.account_rules",
    "entity": "sales.account",
    "rollups": [
        {
            # Sum of the open deals of at least 100 (and below 1,000).
            "field": "open_amount",
            "entity": "sales.opportunity",
            "via": "account",
            "aggregate": "sum",
            "of": "amount",
            "filter": {"stage": {"neq": "lost"}, "amount": {"gte": 100, "lt": 1000}},
        },
        {
            # Deals with a quantity (filled) that are not won or lost.
            "field": "deals",
            "entity": "sales.opportunity",
            "via": "account",
            "aggregate": "count",
            "filter": {"quantity": {"null": False}, "stage": {"in": ["draft", "quoted"]}},
        },
        {
            "field": "biggest",
            "entity": "sales.opportunity",
            "via": "account",
            "aggregate": "max",
            "of": "amount",
            "filter": {"discount": {"lte": 10}},
        },
    ],
}

COMPUTED = {
    "name": "sales.opportunity_rules",
    "entity": "sales.opportunity",
    "computed": [{"field": "quantity", "expression": "record.amount > 500.0 ? 2 : 1"}],
}


@pytest.fixture
def env(make_app):
    e = build_env(make_app)
    e.platform.registry.apply_documents([WRITABLE_ACCOUNT], confirm=True)
    return e


def _account(env, aid):
    got = env.get(aid, "sales.account")
    return got["open_amount"], got["deals"], got["biggest"]


def test_rollup_filters_with_operators_follow_every_child_change(env):
    env.save("rules", json.loads(json.dumps(ROLLUPS)))
    admin = env.users["admin"]
    a = env.create(admin, {"name": "A"}, "sales.account")["id"]
    b = env.create(admin, {"name": "B"}, "sales.account")["id"]
    o1 = env.create(admin, {"name": "1", "amount": "150", "quantity": 1, "account": a})["id"]
    env.create(admin, {"name": "2", "amount": "50", "discount": "20", "account": a})  # too small
    o3 = env.create(
        admin, {"name": "3", "amount": "2000", "discount": "5", "quantity": 3, "account": a}
    )["id"]
    # 150 counts (2000 is not below 1,000, 50 not at least 100); quantities: o1 and o3;
    # max over discount <= 10 (o1 has none: empty is not <= 10): o3.
    assert _account(env, a) == ("150.00", 2, "2000.00")
    env.update(admin, o3, {"amount": "900"})  # now in range
    assert _account(env, a) == ("1050.00", 2, "900.00")
    env.update(admin, o1, {"quantity": None})  # no longer filled
    assert _account(env, a)[1] == 1
    env.update(admin, o3, {"account": b})  # re-parented: leaves A, counts for B
    assert _account(env, a) == ("150.00", 0, None)
    assert _account(env, b) == ("900.00", 1, "900.00")
    env.fire(env.users["rep"], o3, "lose", comment="x", values={"lost_reason": "y"})
    assert _account(env, b) == (None, 0, "900.00")  # lost: neither open nor draft/quoted
    with env.tx() as conn:
        env.records.delete(conn, admin, "sales.opportunity", o3)
    assert _account(env, b) == (None, 0, None)


def test_a_rollup_change_is_audited_and_in_the_changes_feed(env):
    import sqlalchemy as sa

    from xrm.core.tables import outbox

    env.save("rules", json.loads(json.dumps(ROLLUPS)))
    admin = env.users["admin"]
    a = env.create(admin, {"name": "A"}, "sales.account")["id"]
    env.create(admin, {"name": "1", "amount": "150", "quantity": 1, "account": a})
    with env.tx() as conn:
        history = env.records.history(conn, admin, "sales.account", a)
        messages = conn.execute(
            sa.select(outbox.c.topic, outbox.c.payload)
            .where(outbox.c.entity == "sales.account", outbox.c.record_id == a)
            .order_by(outbox.c.id)
        ).all()
    # One entry per roll-up that changed, by the system, noted with the roll-up's field.
    latest = history[0]
    assert latest["action"] == "update" and latest["actor"]["username"] == "system"
    # (biggest: o1 has no discount, so it does not pass the filter and nothing changed.)
    assert [e.get("rollup") for e in history[:-1]] == ["deals", "open_amount"]
    assert history[-1]["action"] == "create"
    assert history[0]["changes"]["deals"] == {"old": None, "new": 1}
    assert history[1]["changes"]["open_amount"] == {"old": None, "new": "150.00"}
    assert [t for t, _p in messages] == ["record.created"] + ["record.updated"] * 2
    last = json.loads(messages[-1][1])
    assert last["record"]["row_version"] == env.get(a, "sales.account")["row_version"]
    client = env.app.test_client()
    token = client.post(
        "/api/v1/security/login",
        json={"username": "admin", "password": "admin-password-for-tests", "provider": "db"},
    ).json["access_token"]
    feed = client.get(
        "/api/v1/data/sales.account/changes?since=0",
        headers={"Authorization": f"Bearer {token}"},
    ).json
    assert [(c["action"], c["id"]) for c in feed["items"]] == [
        ("created", a),
        ("updated", a),
        ("updated", a),
    ]
    assert feed["items"][-1]["record"]["open_amount"] == "150.00"


def test_bad_rollup_filters_are_refused_with_pointers(env):
    doc = json.loads(json.dumps(ROLLUPS))
    doc["rollups"][0]["filter"] = {"quantity": {"between": 1}}
    with pytest.raises(WorkflowInvalid) as exc:
        env.save("rules", doc)
    assert any(p.pointer.startswith("/rollups/0/filter/quantity") for p in exc.value.problems)
    doc["rollups"][0]["filter"] = {
        "amount": {"gte": "lots"},
        "tags": {"gt": "new_logo"},
        "stage": {"lt": "quoted"},  # choice fields are ordered: fine
    }
    with pytest.raises(WorkflowInvalid) as exc:
        env.save("rules", doc)
    found = {p.pointer: p.message for p in exc.value.problems}
    assert set(found) == {"/rollups/0/filter/amount/gte", "/rollups/0/filter/tags/gt"}, found
    assert "'lots'" in found["/rollups/0/filter/amount/gte"]
    assert "ordered" in found["/rollups/0/filter/tags/gt"]


def test_computed_and_rollup_fields_are_read_only_to_users(env):
    env.save("rules", json.loads(json.dumps(ROLLUPS)))
    env.save("rules", json.loads(json.dumps(COMPUTED)))
    rep, admin = env.users["rep"], env.users["admin"]
    with pytest.raises(RecordInvalid) as exc:
        env.create(rep, {"name": "x", "amount": "10", "quantity": 5})
    [p] = exc.value.problems
    assert (p["field"], p["code"]) == ("quantity", "read_only")
    assert "computed by rule set 'sales.opportunity_rules'" in p["message"]
    rec = env.create(rep, {"name": "x", "amount": "600", "quantity": None})
    assert rec["quantity"] == 2  # the engine writes it
    rec = env.update(rep, rec["id"], {"amount": "10", "quantity": 2})  # unchanged value: fine
    assert rec["quantity"] == 1
    with pytest.raises(RecordInvalid) as exc:
        env.update(rep, rec["id"], {"quantity": 7})
    assert exc.value.problems[0]["field"] == "quantity"
    acc = env.create(admin, {"name": "A"}, "sales.account")
    with pytest.raises(RecordInvalid) as exc:
        env.update(admin, acc["id"], {"deals": 3, "open_amount": "5"}, "sales.account")
    assert {p["field"] for p in exc.value.problems} == {"deals", "open_amount"}
    assert "roll-up (count) of sales.opportunity" in str(exc.value.problems)
    with env.tx() as conn:
        state = env.wf.form_state(conn, rep, "sales.opportunity", {})
    assert "quantity" in state["readonly"]


def test_a_read_only_write_over_http_is_a_422_naming_the_field(env):
    env.save("rules", json.loads(json.dumps(COMPUTED)))
    client = env.app.test_client()
    res = client.post(
        "/api/v1/security/login",
        json={"username": "admin", "password": "admin-password-for-tests", "provider": "db"},
    )
    h = {"Authorization": f"Bearer {res.json['access_token']}"}
    r = client.post("/api/v1/data/sales.opportunity", json={"name": "x", "quantity": 9}, headers=h)
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert "quantity" in json.dumps(body) and "read-only" in json.dumps(body)
