"""REST: workflow documents, transitions, approvals, form state (problem+json errors)."""

from __future__ import annotations

import pytest
from runtime_support import build_env, workflow_doc


@pytest.fixture
def env(make_app):
    return build_env(make_app)


def login(env, user="admin", password="admin-password-for-tests"):
    client = env.app.test_client()
    res = client.post(
        "/api/v1/security/login", json={"username": user, "password": password, "provider": "db"}
    )
    return client, {"Authorization": f"Bearer {res.json['access_token']}"}


def test_list_get_and_history_of_workflows(env):
    client, h = login(env)
    res = client.get("/api/v1/meta/workflows?entity=sales.opportunity", headers=h)
    assert res.status_code == 200
    [item] = res.json["items"]
    assert item["name"] == "sales.discount_approval" and item["status"] == "active"
    assert (
        client.get("/api/v1/meta/workflows/sales.discount_approval", headers=h).json["revision"]
        == 1
    )
    hist = client.get("/api/v1/meta/workflows/sales.discount_approval/history", headers=h).json
    assert [i["revision"] for i in hist["items"]] == [1]
    assert client.get("/api/v1/meta/workflows/nope.none", headers=h).status_code == 404


def test_verify_reports_errors_and_warnings_with_pointers(env):
    client, h = login(env)
    doc = workflow_doc()
    doc["transitions"][0]["guard"] = "record.amount > 'a lot'"
    doc["transitions"][0]["roles"] = ["sales_rep", "nobody"]
    res = client.post("/api/v1/meta/workflows/verify", json=doc, headers=h)
    assert res.status_code == 200
    pointers = {e["pointer"] for e in res.json["errors"]}
    assert "/transitions/0/guard" in pointers and "/transitions/0/roles/1" in pointers
    assert all(set(e) == {"pointer", "message", "code"} for e in res.json["errors"])


def test_put_with_errors_is_refused_with_every_finding_and_saves_nothing(env):
    client, h = login(env)
    doc = workflow_doc()
    doc["transitions"][0]["to"] = "nowhere"
    res = client.put(f"/api/v1/meta/workflows/{doc['name']}", json=doc, headers=h)
    assert res.status_code == 422
    assert res.headers["Content-Type"] == "application/problem+json"
    assert any(e["pointer"] == "/transitions/0/to" for e in res.json["errors"])
    assert client.get(f"/api/v1/meta/workflows/{doc['name']}", headers=h).json["revision"] == 1


def test_removing_a_state_that_holds_records_needs_a_mapping_and_moves_them(env):
    client, h = login(env)
    for name in ("A", "B"):
        env.create(env.users["rep"], {"name": name, "amount": "10"})
    doc = workflow_doc()
    doc["states"]["lost"]["label"] = "Lost for good"
    del doc["states"]["draft"]
    doc["states"]["quoted"]["initial"] = True
    doc["transitions"] = [
        t for t in doc["transitions"] if t["name"] not in ("send_quote", "reopen")
    ]
    doc["transitions"][1]["from"] = ["quoted"]
    url = f"/api/v1/meta/workflows/{doc['name']}"
    res = client.put(url, json=doc, headers=h)
    assert res.status_code == 409, res.json
    assert "2 record(s)" in res.json["detail"]
    plan = client.put(
        url + "?dry_run=true", json={"document": doc, "mapping": {"draft": "lost"}}, headers=h
    )
    assert plan.status_code == 200, plan.json
    assert (
        plan.json["moves"] == [{"from": "draft", "to": "lost", "count": 2}]
        and not plan.json["saved"]
    )
    res = client.put(url, json={"document": doc, "mapping": {"draft": "lost"}}, headers=h)
    assert res.status_code == 200 and res.json["recordsMoved"] == 2 and res.json["revision"] == 2
    items = client.get("/api/v1/data/sales.opportunity", headers=h).json["items"]
    assert {i["stage"] for i in items} == {"lost"}
    # Each move is in the record's history (by the system) and in the changes feed.
    rid = items[0]["id"]
    history = client.get(f"/api/v1/data/sales.opportunity/{rid}/history", headers=h).json
    entries = history["items"] if isinstance(history, dict) else history
    moved = entries[0]
    assert moved["actor"]["username"] == "system"
    assert moved["stateMapping"] == {
        "workflow": "sales.discount_approval",
        "from": "draft",
        "to": "lost",
    }
    assert moved["changes"]["stage"] == {"old": "draft", "new": "lost"}
    feed = client.get("/api/v1/data/sales.opportunity/changes?since=0", headers=h).json["items"]
    assert [(c["action"], c["record"]["stage"]) for c in feed][-2:] == [
        ("updated", "lost"),
        ("updated", "lost"),
    ]


def test_transitions_endpoint_and_firing_over_http(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    client, h = login(env, "rep", "pw-rep")
    url = f"/api/v1/data/sales.opportunity/{rec['id']}/transitions"
    out = client.get(url, headers=h).json
    assert out["state"] == "draft" and {t["name"] for t in out["transitions"]} == {
        "send_quote",
        "lose",
    }
    res = client.post(url + "/send_quote", json={}, headers=h)
    assert res.status_code == 422
    assert res.headers["Content-Type"] == "application/problem+json"
    assert res.json["reasons"] == [
        {"code": "missing_fields", "message": "fill in valid_until", "fields": ["valid_until"]}
    ]
    res = client.post(
        url + "/send_quote",
        json={"values": {"valid_until": "2030-01-01"}},
        headers={**h, "If-Match": f'"{rec["id"]}-1"'},
    )
    assert res.status_code == 200 and res.json["stage"] == "quoted"
    assert res.headers["ETag"] == f'"{rec["id"]}-2"'
    res = client.post(url + "/send_quote", json={}, headers=h)
    assert res.status_code == 409 and res.json["reasons"][0]["code"] == "wrong_state"
    assert client.post(url + "/fly", json={}, headers=h).status_code == 404
    res = client.post(url + "/win", json={}, headers={**h, "If-Match": f'"{rec["id"]}-1"'})
    assert res.status_code == 412


def test_direct_patch_of_the_state_is_a_422_naming_the_field(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    client, h = login(env, "rep", "pw-rep")
    res = client.patch(
        f"/api/v1/data/sales.opportunity/{rec['id']}", json={"stage": "won"}, headers=h
    )
    assert res.status_code == 422
    assert res.json["errors"][0]["pointer"] == "/stage"


def test_approvals_over_http(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10", "discount": "12"})
    client, h = login(env, "manager", "pw-manager")
    url = f"/api/v1/data/sales.opportunity/{rec['id']}/approvals"
    res = client.post(
        url, json={"transition": "send_quote", "step": "manager", "comment": "fine"}, headers=h
    )
    assert res.status_code == 201, res.json
    assert res.json["items"][0]["user"]["username"] == "manager"
    res = client.post(url, json={"transition": "send_quote", "step": "director"}, headers=h)
    assert res.status_code == 409  # 12% needs no director
    assert client.get(url, headers=h).json["items"][0]["step"] == "manager"


def test_form_state_applies_state_rules_on_the_server(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    env.fire(env.users["rep"], rec["id"], "send_quote", values={"valid_until": "2030-01-01"})
    client, h = login(env, "rep", "pw-rep")
    res = client.post(
        "/api/v1/data/sales.opportunity/form-state", json={"values": {}, "id": rec["id"]}, headers=h
    )
    assert res.status_code == 200
    assert {"amount", "discount", "stage"} <= set(res.json["readonly"])
    assert "valid_until" in res.json["required"]


def test_meta_schemas_are_published(env):
    client = env.app.test_client()
    assert client.get("/api/v1/meta/schemas/workflow").json["$id"] == "urn:xrm:schema:workflow"
    assert client.get("/api/v1/meta/schemas/rules").json["$id"] == "urn:xrm:schema:rules"
