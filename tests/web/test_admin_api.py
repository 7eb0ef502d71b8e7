"""The administration API: roles, grants, scopes, field security, users."""

from __future__ import annotations

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "properties": {"name": {"type": "string"}, "revenue": {"type": "integer"}},
}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def login(client, username, password):
    res = client.post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
    )
    return res.json["access_token"]


def test_an_administrator_sets_up_a_role_and_a_user_who_then_works_within_it(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c = app.test_client()
    h = auth(admin_token)
    assert c.post("/api/v1/admin/roles", json={"name": "Sales"}, headers=h).status_code == 201
    res = c.put(
        "/api/v1/admin/roles/Sales/entities/crm.account",
        json={"actions": ["read", "create"], "scope": "own"},
        headers=h,
    )
    assert res.json == {"actions": ["create", "read"], "scope": "own"}
    res = c.put(
        "/api/v1/admin/roles/Sales/entities/crm.account/fields/revenue",
        json={"read": False, "write": False},
        headers=h,
    )
    assert res.status_code == 200
    res = c.post(
        "/api/v1/admin/users",
        json={
            "username": "sam",
            "email": "sam@example.org",
            "password": "pw-sam-123",
            "roles": ["Sales"],
        },
        headers=h,
    )
    assert res.status_code == 201
    c.post("/api/v1/data/crm.account", json={"name": "Not Sam's", "revenue": 9}, headers=h)
    sam = auth(login(c, "sam", "pw-sam-123"))
    mine = c.post("/api/v1/data/crm.account", json={"name": "Sam's"}, headers=sam)
    assert mine.status_code == 201
    listed = c.get("/api/v1/data/crm.account", headers=sam).json["items"]
    assert [r["name"] for r in listed] == ["Sam's"]
    assert "revenue" not in listed[0]
    assert c.get("/api/v1/data/crm.account?revenue=gt.1", headers=sam).status_code in (400, 403)
    assert (
        c.post(
            "/api/v1/data/crm.account", json={"name": "x", "revenue": 1}, headers=sam
        ).status_code
        == 403
    )
    roles = {r["name"]: r for r in c.get("/api/v1/admin/roles", headers=h).json["items"]}
    assert roles["Sales"]["entities"]["crm.account"]["fields"] == {
        "revenue": {"read": False, "write": False}
    }


def test_deactivating_a_user_locks_them_out(app, admin_token):
    c = app.test_client()
    h = auth(admin_token)
    uid = c.post(
        "/api/v1/admin/users",
        json={"username": "ex", "email": "ex@example.org", "password": "pw-ex-123"},
        headers=h,
    ).json["id"]
    token = login(c, "ex", "pw-ex-123")
    assert (
        c.patch(f"/api/v1/admin/users/{uid}", json={"active": False}, headers=h).json["active"]
        is False
    )
    assert c.get("/api/v1/meta/entities", headers=auth(token)).status_code == 401


def test_admin_api_is_for_administrators_only(app, admin_token):
    c = app.test_client()
    c.post(
        "/api/v1/admin/users",
        json={"username": "u", "email": "u@example.org", "password": "pw-u-1234"},
        headers=auth(admin_token),
    )
    token = login(c, "u", "pw-u-1234")
    assert c.get("/api/v1/admin/roles", headers=auth(token)).status_code == 403


def test_unknown_actions_are_a_400(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    res = app.test_client().put(
        "/api/v1/admin/roles/Admin/entities/crm.account",
        json={"actions": ["fly"]},
        headers=auth(admin_token),
    )
    assert res.status_code == 400


def test_organisation_owned_records_have_no_owner_and_take_only_the_all_scope(app, admin_token):
    register = {
        "x-xrm": {"name": "crm.register", "ownership": "organisation"},
        "properties": {"name": {"type": "string"}},
    }
    app.extensions["xrm"].registry.apply_documents([register])
    c = app.test_client()
    h = auth(admin_token)
    created = c.post("/api/v1/data/crm.register", json={"name": "shared"}, headers=h)
    assert created.status_code == 201 and created.json["owner_id"] is None
    assert c.post("/api/v1/admin/roles", json={"name": "Clerk"}, headers=h).status_code == 201
    url = "/api/v1/admin/roles/Clerk/entities/crm.register"
    for scope in ("own", "team"):
        res = c.put(url, json={"actions": ["read"], "scope": scope}, headers=h)
        assert res.status_code == 400
        assert "owned by the organisation" in res.json["detail"]
    res = c.put(url, json={"actions": ["read"], "scope": "all"}, headers=h)
    assert res.status_code == 200
    res = c.post(
        "/api/v1/admin/users",
        json={
            "username": "cl",
            "email": "cl@example.org",
            "password": "pw-cl-1234",
            "roles": ["Clerk"],
        },
        headers=h,
    )
    assert res.status_code == 201
    listed = c.get("/api/v1/data/crm.register", headers=auth(login(c, "cl", "pw-cl-1234")))
    assert [r["name"] for r in listed.json["items"]] == ["shared"]
