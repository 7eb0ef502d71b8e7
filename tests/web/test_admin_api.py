"""The administration API: roles, grants, scopes, field security, users, teams."""

from __future__ import annotations

import sqlalchemy as sa

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "properties": {"name": {"type": "string"}, "revenue": {"type": "integer"}},
}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def _problem(res, status):
    assert res.status_code == status, res.json
    assert res.mimetype == "application/problem+json"
    return res.json


def _pointers(res, status=422):
    return [e["pointer"] for e in _problem(res, status)["errors"]]


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


# -- the statuses of errors: 400 a body that is not a JSON object, 422 values that do not fit
# (each with its JSON pointer), 404 an unknown role, user, entity or field, 409 a taken name


def test_a_grant_with_an_unknown_action_is_a_422_pointing_at_it(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c, h = app.test_client(), auth(admin_token)
    url = "/api/v1/admin/roles/Admin/entities/crm.account"
    res = c.put(url, json={"actions": ["read", "fly", {}]}, headers=h)
    assert _pointers(res) == ["/actions/1", "/actions/2"]
    assert "'fly'" in res.json["detail"]
    assert _pointers(c.put(url, json={"actions": "read"}, headers=h)) == ["/actions"]


def test_a_grant_with_an_unknown_scope_is_a_422_pointing_at_it(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c, h = app.test_client(), auth(admin_token)
    c.post("/api/v1/admin/roles", json={"name": "Sales"}, headers=h)
    url = "/api/v1/admin/roles/Sales/entities/crm.account"
    res = c.put(url, json={"actions": ["read"], "scope": "galaxy"}, headers=h)
    assert _pointers(res) == ["/scope"]
    roles = {r["name"]: r for r in c.get("/api/v1/admin/roles", headers=h).json["items"]}
    assert roles["Sales"]["entities"] == {}  # nothing was granted


def test_a_grant_body_that_is_not_a_json_object_is_a_400(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c, h = app.test_client(), auth(admin_token)
    url = "/api/v1/admin/roles/Admin/entities/crm.account"
    _problem(c.put(url, json=["read"], headers=h), 400)
    _problem(c.put(url, data="{", content_type="application/json", headers=h), 400)


def test_a_grant_for_an_unknown_role_or_entity_is_a_404(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c, h = app.test_client(), auth(admin_token)
    body = {"actions": ["read"]}
    for role in ("Nobody", "x" * 65, "a%00b", "tab%09"):
        res = c.put(f"/api/v1/admin/roles/{role}/entities/crm.account", json=body, headers=h)
        assert "does not exist" in _problem(res, 404)["detail"]
    _problem(c.put("/api/v1/admin/roles/Admin/entities/crm.nope", json=body, headers=h), 404)


def test_a_new_role_with_an_invalid_name_is_a_422_pointing_at_the_name(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    for bad in ({}, {"name": ""}, {"name": " "}, {"name": 5}, {"name": "x" * 65}):
        assert _pointers(c.post("/api/v1/admin/roles", json=bad, headers=h)) == ["/name"]
    for bad in ("tab\there", "nul\x00", "del\x7f", "\ud800"):
        res = c.post("/api/v1/admin/roles", json={"name": bad}, headers=h)
        assert _pointers(res) == ["/name"]
    names = {r["name"] for r in c.get("/api/v1/admin/roles", headers=h).json["items"]}
    assert not names & {"", " ", "x" * 65, "tab\there"}


def test_a_new_role_body_that_is_not_a_json_object_is_a_400(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _problem(c.post("/api/v1/admin/roles", json=["Sales"], headers=h), 400)
    _problem(c.post("/api/v1/admin/roles", data="name=Sales", headers=h), 400)


def test_a_new_role_with_a_taken_name_is_a_409(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    assert c.post("/api/v1/admin/roles", json={"name": "Sales"}, headers=h).status_code == 201
    assert (
        "Sales"
        in _problem(c.post("/api/v1/admin/roles", json={"name": "Sales"}, headers=h), 409)["detail"]
    )


def test_field_rights_that_are_not_booleans_are_a_422_pointing_at_each(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c, h = app.test_client(), auth(admin_token)
    url = "/api/v1/admin/roles/Admin/entities/crm.account/fields/revenue"
    assert _pointers(c.put(url, json={"read": "yes"}, headers=h)) == ["/read", "/write"]
    assert _pointers(c.put(url, json={"read": True, "write": None}, headers=h)) == ["/write"]
    _problem(c.put(url, json=[True, False], headers=h), 400)
    roles = {r["name"]: r for r in c.get("/api/v1/admin/roles", headers=h).json["items"]}
    assert "fields" not in roles["Admin"]["entities"].get("crm.account", {})


def test_field_rights_of_an_unknown_role_or_field_are_a_404(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c, h = app.test_client(), auth(admin_token)
    rights = {"read": True, "write": False}
    base = "/api/v1/admin/roles/{}/entities/crm.account/fields/{}"
    for role, field in (("Nobody", "revenue"), ("a%00b", "revenue"), ("Admin", "nope")):
        _problem(c.put(base.format(role, field), json=rights, headers=h), 404)
        if field == "revenue":
            _problem(c.delete(base.format(role, field), headers=h), 404)
    assert c.delete(base.format("Admin", "revenue"), headers=h).status_code == 204


def test_a_new_user_missing_or_with_invalid_values_is_a_422_pointing_at_each(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    assert _pointers(c.post("/api/v1/admin/users", json={}, headers=h)) == [
        "/username",
        "/email",
        "/password",
    ]
    res = c.post(
        "/api/v1/admin/users",
        json={
            "username": "tab\there",
            "email": "x" * 257,
            "password": "pw-123456",
            "firstName": 5,
            "lastName": None,
            "roles": "Admin",
        },
        headers=h,
    )
    assert _pointers(res) == ["/username", "/email", "/firstName", "/lastName", "/roles"]
    assert len(c.get("/api/v1/admin/users", headers=h).json["items"]) == 1  # the administrator


def test_a_new_user_with_an_unknown_role_is_a_422_pointing_at_it(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    body = {"username": "sam", "email": "sam@example.org", "password": "pw-sam-123"}
    res = c.post("/api/v1/admin/users", json={**body, "roles": ["Admin", "Nope", 7]}, headers=h)
    assert _pointers(res) == ["/roles/2"]  # the shape first, then whether the roles exist
    res = c.post("/api/v1/admin/users", json={**body, "roles": ["Admin", "Nope"]}, headers=h)
    assert _pointers(res) == ["/roles/1"]
    assert "'Nope'" in res.json["detail"]
    assert [u["username"] for u in c.get("/api/v1/admin/users", headers=h).json["items"]] == [
        "admin"
    ]


def test_a_new_user_body_that_is_not_a_json_object_is_a_400(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _problem(c.post("/api/v1/admin/users", json=["sam"], headers=h), 400)
    _problem(
        c.post("/api/v1/admin/users", data="{", content_type="application/json", headers=h), 400
    )


def test_a_new_user_with_a_taken_user_name_is_a_409(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    body = {"username": "admin", "email": "other@example.org", "password": "pw-123456"}
    assert "admin" in _problem(c.post("/api/v1/admin/users", json=body, headers=h), 409)["detail"]


def test_a_user_change_with_invalid_values_is_a_422_and_changes_nothing(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _users(c, h, "ann")
    ann = next(
        u for u in c.get("/api/v1/admin/users", headers=h).json["items"] if u["username"] == "ann"
    )
    url = f"/api/v1/admin/users/{ann['id']}"
    assert _pointers(c.patch(url, json={"active": "no", "roles": [""]}, headers=h)) == [
        "/active",
        "/roles/0",
    ]
    res = c.patch(url, json={"active": False, "roles": ["Admin", "Nope"]}, headers=h)
    assert _pointers(res) == ["/roles/1"]
    after = next(
        u for u in c.get("/api/v1/admin/users", headers=h).json["items"] if u["id"] == ann["id"]
    )
    assert after == ann
    assert (
        c.get("/api/v1/meta/entities", headers=auth(login(c, "ann", "pw-ann-123"))).status_code
        == 200
    )


def test_a_user_change_of_an_unknown_user_is_a_404_and_a_non_object_body_a_400(app, admin_token):
    c, h = app.test_client(), auth(admin_token)
    _problem(c.patch("/api/v1/admin/users/999999", json={"active": False}, headers=h), 404)
    admin_id = c.get("/api/v1/admin/users", headers=h).json["items"][0]["id"]
    _problem(c.patch(f"/api/v1/admin/users/{admin_id}", json=[False], headers=h), 400)


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
        assert _pointers(res) == ["/scope"]
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
    res = c.post("/api/v1/admin/teams", json={"name": "x", "members": ["nobody"]}, headers=h)
    assert _pointers(res) == ["/members/0"] and "nobody" in res.json["detail"]
    assert c.get("/api/v1/admin/teams/x", headers=h).status_code == 404  # nothing was written
    res = c.patch("/api/v1/admin/teams/north", json={"members": ["ann", "nobody"]}, headers=h)
    assert _pointers(res) == ["/members/1"] and "nobody" in res.json["detail"]
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
    for bad in ("a/b", "x" * 101, "tab\there", "del\x7f", " padded", "nul\x00", "\ud800"):
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
