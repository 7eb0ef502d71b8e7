"""The administration API: roles, grants, scopes, field security, users, teams."""

from __future__ import annotations

import sqlalchemy as sa

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


# -- teams -------------------------------------------------------------------------------------


def _users(c, h, *names):
    for n in names:
        res = c.post(
            "/api/v1/admin/users",
            json={"username": n, "email": f"{n}@example.org", "password": f"pw-{n}-123"},
            headers=h,
        )
        assert res.status_code == 201, res.json


def test_teams_are_created_listed_changed_and_deleted(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _users(c, h, "ann", "bob", "cy")
    res = c.post(
        "/api/v1/admin/teams",
        json={"name": "north", "label": "North region", "members": ["bob", "ann"]},
        headers=h,
    )
    assert res.status_code == 201, res.json
    assert res.json == {
        "name": "north",
        "label": "North region",
        "description": None,
        "members": ["ann", "bob"],
    }
    c.post("/api/v1/admin/teams", json={"name": "east"}, headers=h)
    listed = c.get("/api/v1/admin/teams", headers=h).json["items"]
    assert [(t["name"], t["label"], t["members"]) for t in listed] == [
        ("east", "east", []),
        ("north", "North region", ["ann", "bob"]),
    ]
    res = c.patch(
        "/api/v1/admin/teams/north",
        json={"name": "south", "description": "Sales south", "members": ["cy", "bob"]},
        headers=h,
    )
    assert res.status_code == 200, res.json
    assert (res.json["name"], res.json["members"]) == ("south", ["bob", "cy"])
    assert c.get("/api/v1/admin/teams/north", headers=h).status_code == 404
    got = c.get("/api/v1/admin/teams/south", headers=h).json
    assert (got["label"], got["description"]) == ("North region", "Sales south")
    assert c.delete("/api/v1/admin/teams/south", headers=h).status_code == 204
    assert [t["name"] for t in c.get("/api/v1/admin/teams", headers=h).json["items"]] == ["east"]
    assert {u["username"] for u in c.get("/api/v1/admin/users", headers=h).json["items"]} >= {
        "ann",
        "bob",
        "cy",
    }


def test_a_team_made_through_the_api_is_a_flask_appbuilder_group(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _users(c, h, "ann")
    c.post("/api/v1/admin/teams", json={"name": "north", "members": ["ann"]}, headers=h)
    with app.app_context():
        sm = app.appbuilder.sm
        group = sm.find_group("north")
        assert [u.username for u in group.users] == ["ann"]
        sm.add_group("west", "West", "made in FAB", users=[sm.find_user("ann")])
    got = c.get("/api/v1/admin/teams/west", headers=h).json
    assert (got["label"], got["description"], got["members"]) == ("West", "made in FAB", ["ann"])


def _problem(res, status):
    assert res.status_code == status, res.json
    assert res.mimetype == "application/problem+json"
    return res.json


def test_team_errors_are_problems(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _users(c, h, "ann")
    c.post("/api/v1/admin/teams", json={"name": "north"}, headers=h)
    c.post("/api/v1/admin/teams", json={"name": "east"}, headers=h)
    assert (
        "north"
        in _problem(c.post("/api/v1/admin/teams", json={"name": "north"}, headers=h), 409)["detail"]
    )
    assert (
        "east"
        in _problem(c.patch("/api/v1/admin/teams/north", json={"name": "east"}, headers=h), 409)[
            "detail"
        ]
    )
    assert (
        "nobody"
        in _problem(
            c.post("/api/v1/admin/teams", json={"name": "x", "members": ["nobody"]}, headers=h), 404
        )["detail"]
    )
    assert c.get("/api/v1/admin/teams/x", headers=h).status_code == 404  # nothing was written
    assert (
        "nobody"
        in _problem(
            c.patch("/api/v1/admin/teams/north", json={"members": ["ann", "nobody"]}, headers=h),
            404,
        )["detail"]
    )
    assert c.get("/api/v1/admin/teams/north", headers=h).json["members"] == []
    for path in ("/api/v1/admin/teams/nope",):
        _problem(c.get(path, headers=h), 404)
        _problem(c.patch(path, json={"label": "x"}, headers=h), 404)
        _problem(c.delete(path, headers=h), 404)
    invalid = _problem(
        c.post(
            "/api/v1/admin/teams",
            json={"name": " ", "label": 5, "members": "ann", "colour": "red"},
            headers=h,
        ),
        422,
    )
    assert {e["pointer"] for e in invalid["errors"]} == {"/name", "/label", "/members", "/colour"}
    for bad in ("a/b", "x" * 101, "tab\there", " padded", "nul\x00", "\ud800"):
        _problem(c.post("/api/v1/admin/teams", json={"name": bad}, headers=h), 422)
    _problem(
        c.post("/api/v1/admin/teams", json={"name": "y", "members": ["a\x00"]}, headers=h), 422
    )
    _problem(c.get("/api/v1/admin/teams/a%00b", headers=h), 404)
    _problem(c.post("/api/v1/admin/teams", json={}, headers=h), 422)
    _problem(c.patch("/api/v1/admin/teams/north", json={"name": None}, headers=h), 422)
    _problem(c.post("/api/v1/admin/teams", json=["north"], headers=h), 400)


def test_teams_are_for_administrators_only(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _users(c, h, "u")
    c.post("/api/v1/admin/teams", json={"name": "north"}, headers=h)
    user = auth(login(c, "u", "pw-u-123"))
    _problem(c.get("/api/v1/admin/teams", headers=user), 403)
    _problem(c.post("/api/v1/admin/teams", json={"name": "mine"}, headers=user), 403)
    _problem(c.get("/api/v1/admin/teams/north", headers=user), 403)
    _problem(c.patch("/api/v1/admin/teams/north", json={"members": ["u"]}, headers=user), 403)
    _problem(c.delete("/api/v1/admin/teams/north", headers=user), 403)
    assert c.get("/api/v1/admin/teams", headers={}).status_code == 401
    assert c.get("/api/v1/admin/teams/north", headers=h).json["members"] == []


def test_a_user_added_to_a_team_sees_its_records_on_the_next_request(app, admin_token):
    from xrm.core.security import accesscache

    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c, h = app.test_client(), auth(admin_token)
    c.post("/api/v1/admin/roles", json={"name": "Rep"}, headers=h)
    c.put(
        "/api/v1/admin/roles/Rep/entities/crm.account",
        json={"actions": ["read", "create"], "scope": "team"},
        headers=h,
    )
    for n in ("me", "mate"):
        res = c.post(
            "/api/v1/admin/users",
            json={
                "username": n,
                "email": f"{n}@example.org",
                "password": f"pw-{n}-123",
                "roles": ["Rep"],
            },
            headers=h,
        )
        assert res.status_code == 201
    me, mate = auth(login(c, "me", "pw-me-123")), auth(login(c, "mate", "pw-mate-123"))
    c.post("/api/v1/data/crm.account", json={"name": "mine"}, headers=me)
    c.post("/api/v1/data/crm.account", json={"name": "mate's"}, headers=mate)
    with app.extensions["xrm"].engine.connect() as conn:  # access is cached, not re-read
        state = conn.execute(sa.select(accesscache.access_state)).one()
    assert state.watching == accesscache.TRIGGERS_VERSION

    def names():
        res = c.get("/api/v1/data/crm.account?order=id", headers=me)
        return [r["name"] for r in res.json["items"]]

    assert names() == ["mine"]
    assert names() == ["mine"]  # served from the access cache
    c.post("/api/v1/admin/teams", json={"name": "north", "members": ["me"]}, headers=h)
    assert names() == ["mine"]  # a team of one
    c.patch("/api/v1/admin/teams/north", json={"members": ["me", "mate"]}, headers=h)
    assert names() == ["mine", "mate's"]
    c.patch("/api/v1/admin/teams/north", json={"members": ["me"]}, headers=h)
    assert names() == ["mine"]
    c.patch("/api/v1/admin/teams/north", json={"members": ["me", "mate"]}, headers=h)
    assert names() == ["mine", "mate's"]
    c.delete("/api/v1/admin/teams/north", headers=h)
    assert names() == ["mine"]
