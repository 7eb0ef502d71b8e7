"""Saved views: /api/v1/views (personal and shared) and the views plugins declare."""

from __future__ import annotations

import pytest

from xrm.core.plugins import hookimpl
from xrm.core.security import grants

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "properties": {"name": {"type": "string"}, "secret": {"type": "string"}},
}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


class Views:
    @hookimpl
    def xrm_views(self):
        return [
            {
                "name": "crm.big",
                "entity": "crm.account",
                "label": "Big accounts",
                "query": "name=ilike.*inc*",
            }
        ]


@pytest.fixture
def env(make_app):
    app = make_app(plugins={"views": Views()})
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    client = app.test_client()
    tokens = {}
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_role("Sales")
        for name, role in (("admin", "Admin"), ("ann", "Sales"), ("bob", "Sales")):
            sm.add_user(
                name, name, "U", f"{name}@example.org", sm.find_role(role), password="pw-views-1"
            )
    with app.extensions["xrm"].engine.begin() as conn:
        grants.grant(conn, "Sales", "crm.account", ["read"])
        grants.secure_field(conn, "Admin", "crm.account", "secret", read=True, write=True)
    for name in ("admin", "ann", "bob"):
        tokens[name] = client.post(
            "/api/v1/security/login",
            json={"username": name, "password": "pw-views-1", "provider": "db"},
        ).json["access_token"]
    return client, tokens


def test_a_personal_view_is_seen_by_its_owner_only(env):
    client, t = env
    res = client.post(
        "/api/v1/views",
        json={"entity": "crm.account", "label": "Mine", "columns": ["name"], "query": "order=name"},
        headers=auth(t["ann"]),
    )
    assert res.status_code == 201
    assert res.json["shared"] is False and res.json["columns"] == ["name"]
    ann = client.get("/api/v1/views?entity=crm.account", headers=auth(t["ann"])).json["items"]
    bob = client.get("/api/v1/views?entity=crm.account", headers=auth(t["bob"])).json["items"]
    assert [v["label"] for v in ann] == ["Big accounts", "Mine"]
    assert [v["label"] for v in bob] == ["Big accounts"]
    assert ann[0]["source"] == "plugin:views" and ann[0]["id"] == "plugin:crm.big"
    assert (
        client.delete(f"/api/v1/views/{res.json['id']}", headers=auth(t["bob"])).status_code == 404
    )
    assert (
        client.delete(f"/api/v1/views/{res.json['id']}", headers=auth(t["ann"])).status_code == 204
    )


def test_only_administrators_share_views_and_everyone_sees_shared_ones(env):
    client, t = env
    body = {"entity": "crm.account", "label": "Team", "query": "", "shared": True}
    assert client.post("/api/v1/views", json=body, headers=auth(t["ann"])).status_code == 403
    shared = client.post("/api/v1/views", json=body, headers=auth(t["admin"]))
    assert shared.status_code == 201
    bob = client.get("/api/v1/views", headers=auth(t["bob"])).json["items"]
    assert "Team" in [v["label"] for v in bob]
    res = client.patch(
        f"/api/v1/views/{shared.json['id']}", json={"label": "x"}, headers=auth(t["bob"])
    )
    assert res.status_code == 403


def test_a_view_is_checked_against_the_entity_when_saved(env):
    client, t = env
    res = client.post(
        "/api/v1/views",
        json={
            "entity": "crm.account",
            "label": "",
            "columns": ["nope", "secret"],
            "query": "name=gt.x",
            "kind": "pie",
        },
        headers=auth(t["ann"]),
    )
    assert res.status_code == 422
    fields = {e["field"]: e["message"] for e in res.json["errors"]}
    assert set(fields) == {"label", "columns", "query", "kind"}
    assert "'nope'" in fields["columns"] and "'secret'" in fields["columns"]
    assert "gt is not allowed" in fields["query"]
    unknown = client.post(
        "/api/v1/views", json={"entity": "no.such", "label": "x"}, headers=auth(t["ann"])
    )
    assert unknown.status_code == 422
