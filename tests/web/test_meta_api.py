"""The metadata read API: served for runtime entities without restart, problem+json errors."""

from __future__ import annotations

ACCOUNT = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_meta_schema_is_published(app):
    res = app.test_client().get("/api/v1/meta/schemas/entity")
    assert res.status_code == 200
    assert res.json["$id"] == "urn:xrm:schema:entity"


def test_entity_list_requires_login_and_answers_problem_json(app):
    res = app.test_client().get("/api/v1/meta/entities")
    assert res.status_code == 401
    assert res.mimetype == "application/problem+json"
    assert res.json["status"] == 401


def test_an_entity_applied_after_start_up_is_served_on_the_next_request(app, admin_token):
    client = app.test_client()
    before = client.get("/api/v1/meta/entities", headers=auth(admin_token)).json
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    res = client.get("/api/v1/meta/entities", headers=auth(admin_token))
    assert [e["name"] for e in res.json["items"]] == ["crm.account"]
    assert res.json["version"] == before["version"] + 1
    assert res.headers["X-Xrm-Metadata-Version"] == str(before["version"] + 1)
    one = client.get("/api/v1/meta/entities/crm.account", headers=auth(admin_token))
    assert one.status_code == 200
    assert one.json["definition"]["x-xrm"]["name"] == "crm.account"
    assert one.json["recordSchema"]["properties"]["name"]["type"] == ["string", "null"]


def test_unknown_entity_is_a_404_problem(app, admin_token):
    res = app.test_client().get("/api/v1/meta/entities/crm.nothing", headers=auth(admin_token))
    assert res.status_code == 404
    assert "crm.nothing" in res.json["detail"]


def test_applying_an_entity_creates_its_permissions_for_the_admin_role(app):
    import sqlalchemy as sa

    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    with app.extensions["xrm"].engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(
                    "SELECT p.name FROM ab_permission_view pv JOIN ab_permission p ON p.id = pv.permission_id "
                    "JOIN ab_view_menu v ON v.id = pv.view_menu_id "
                    "JOIN ab_permission_view_role pvr ON pvr.permission_view_id = pv.id "
                    "JOIN ab_role r ON r.id = pvr.role_id WHERE v.name = 'Entity:crm.account' AND r.name = 'Admin'"
                )
            )
            .scalars()
            .all()
        )
    assert sorted(rows) == sorted(
        f"can_{a}" for a in ("read", "create", "update", "delete", "import", "export")
    )


def test_fab_security_cleanup_keeps_entity_permissions(make_app):
    import sqlalchemy as sa

    app = make_app(FAB_UPDATE_PERMS=True)
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    with app.app_context():
        app.appbuilder.security_cleanup()
    with app.extensions["xrm"].engine.connect() as conn:
        n = conn.execute(
            sa.text("SELECT count(*) FROM ab_view_menu WHERE name = 'Entity:crm.account'")
        ).scalar()
    assert n == 1


def test_permission_rows_roll_back_with_a_failed_apply(app):
    import pytest
    import sqlalchemy as sa

    registry = app.extensions["xrm"].registry

    def boom(conn, change):
        raise RuntimeError("injected failure after the DDL")

    registry.apply_hooks.append(boom)
    with pytest.raises(RuntimeError):
        registry.apply_documents([ACCOUNT])
    with app.extensions["xrm"].engine.connect() as conn:
        n = conn.execute(
            sa.text("SELECT count(*) FROM ab_view_menu WHERE name = 'Entity:crm.account'")
        ).scalar()
        assert n == 0
        assert not sa.inspect(conn).has_table("crm_account")


def test_plan_endpoint_is_a_dry_run(app, admin_token):
    client = app.test_client()
    res = client.post(
        "/api/v1/meta/plan", json={"definitions": [ACCOUNT]}, headers=auth(admin_token)
    )
    assert res.status_code == 200
    assert [op["op"] for op in res.json["operations"]] == ["create_entity"]
    assert client.get("/api/v1/meta/entities", headers=auth(admin_token)).json["items"] == []


def test_apply_endpoint_reports_every_problem_with_pointers(app, admin_token):
    bad = {
        "x-xrm": {"name": "crm.account", "titleField": "nope"},
        "properties": {"n": {"type": "integer", "maxLength": 3}},
    }
    res = app.test_client().post(
        "/api/v1/meta/apply", json={"definitions": [bad]}, headers=auth(admin_token)
    )
    assert res.status_code == 422
    assert res.mimetype == "application/problem+json"
    assert {e["pointer"] for e in res.json["errors"]} == {
        "/properties/n/maxLength",
        "/x-xrm/titleField",
    }


def test_apply_endpoint_needs_confirmation_for_destructive_changes(app, admin_token):
    client = app.test_client()
    two = {
        "x-xrm": {"name": "crm.account"},
        "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
    }
    assert (
        client.post(
            "/api/v1/meta/apply", json={"definitions": [two]}, headers=auth(admin_token)
        ).status_code
        == 200
    )
    res = client.post(
        "/api/v1/meta/apply", json={"definitions": [ACCOUNT]}, headers=auth(admin_token)
    )
    assert res.status_code == 409
    assert "Confirm" in res.json["detail"]
    res = client.post(
        "/api/v1/meta/apply",
        json={"definitions": [ACCOUNT], "confirm": True},
        headers=auth(admin_token),
    )
    assert res.status_code == 200
    assert "archive_field" in [op["op"] for op in res.json["plan"]["operations"]]


def test_apply_endpoint_refuses_a_stale_base_version(app, admin_token):
    res = app.test_client().post(
        "/api/v1/meta/apply",
        json={"definitions": [ACCOUNT], "baseVersion": 41},
        headers=auth(admin_token),
    )
    assert res.status_code == 409
    assert res.json["title"] == "Stale plan"


def test_non_admins_cannot_change_definitions(app):
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            "joe", "Joe", "User", "joe@example.org", sm.find_role("Public"), password="joe-password"
        )
    client = app.test_client()
    token = client.post(
        "/api/v1/security/login",
        json={"username": "joe", "password": "joe-password", "provider": "db"},
    ).json["access_token"]
    res = client.post("/api/v1/meta/apply", json={"definitions": [ACCOUNT]}, headers=auth(token))
    assert res.status_code == 403
    res = client.delete("/api/v1/meta/option-sets/crm.size", headers=auth(token))
    assert res.status_code == 403


def test_put_creates_then_changes_an_entity(app, admin_token):
    client = app.test_client()
    res = client.put("/api/v1/meta/entities/crm.account", json=ACCOUNT, headers=auth(admin_token))
    assert res.status_code == 200
    bigger = {**ACCOUNT, "properties": {**ACCOUNT["properties"], "size": {"type": "integer"}}}
    res = client.put("/api/v1/meta/entities/crm.account", json=bigger, headers=auth(admin_token))
    assert [op["op"] for op in res.json["plan"]["operations"]][-1] == "add_field"
    history = client.get(
        "/api/v1/meta/entities/crm.account/history", headers=auth(admin_token)
    ).json["items"]
    assert [h["revision"] for h in history] == [1, 2]


def test_put_refuses_a_document_for_another_name(app, admin_token):
    res = app.test_client().put(
        "/api/v1/meta/entities/crm.other", json=ACCOUNT, headers=auth(admin_token)
    )
    assert res.status_code == 400


def test_option_sets_are_listed_with_the_fields_that_use_them(app, admin_token):
    client = app.test_client()
    industry = {"name": "crm.industry", "label": "Industry", "options": [{"value": "retail"}]}
    unused = {"name": "crm.size", "options": [{"value": "small"}, {"value": "large"}]}
    account = {
        "x-xrm": {"name": "crm.account"},
        "properties": {"sector": {"type": "string", "x-xrm": {"optionSet": "crm.industry"}}},
    }
    res = client.post(
        "/api/v1/meta/apply",
        json={"definitions": [industry, unused, account]},
        headers=auth(admin_token),
    )
    assert res.status_code == 200, res.json
    listing = client.get("/api/v1/meta/option-sets", headers=auth(admin_token)).json
    assert [(s["name"], s["usedBy"]) for s in listing["items"]] == [
        ("crm.industry", ["crm.account.sector"]),
        ("crm.size", []),
    ]
    one = client.get("/api/v1/meta/option-sets/crm.industry", headers=auth(admin_token))
    assert one.json == {**industry, "usedBy": ["crm.account.sector"]}
    missing = client.get("/api/v1/meta/option-sets/crm.nothing", headers=auth(admin_token))
    assert missing.status_code == 404 and "crm.nothing" in missing.json["detail"]
    assert client.get("/api/v1/meta/option-sets").status_code == 401


def _apply_sets_and_account(client, token):
    industry = {"name": "crm.industry", "options": [{"value": "retail"}]}
    unused = {"name": "crm.size", "options": [{"value": "small"}]}
    account = {
        "x-xrm": {"name": "crm.account"},
        "properties": {
            "sector": {"type": "string", "x-xrm": {"optionSet": "crm.industry"}},
            "sectors": {"type": "array", "x-xrm": {"optionSet": "crm.industry"}},
        },
    }
    res = client.post(
        "/api/v1/meta/apply", json={"definitions": [industry, unused, account]}, headers=auth(token)
    )
    assert res.status_code == 200, res.json
    return res.json["version"]


def test_an_unused_option_set_is_deleted_and_the_metadata_version_moves(app, admin_token):
    client = app.test_client()
    version = _apply_sets_and_account(client, admin_token)
    res = client.delete("/api/v1/meta/option-sets/crm.size", headers=auth(admin_token))
    assert res.status_code == 204
    assert int(res.headers["X-Xrm-Metadata-Version"]) == version + 1
    listing = client.get("/api/v1/meta/option-sets", headers=auth(admin_token)).json
    assert [s["name"] for s in listing["items"]] == ["crm.industry"]
    again = client.delete("/api/v1/meta/option-sets/crm.size", headers=auth(admin_token))
    assert again.status_code == 404 and "crm.size" in again.json["detail"]


def test_deleting_an_option_set_in_use_is_refused_naming_the_fields(app, admin_token):
    client = app.test_client()
    _apply_sets_and_account(client, admin_token)
    res = client.delete("/api/v1/meta/option-sets/crm.industry", headers=auth(admin_token))
    assert res.status_code == 409
    assert res.mimetype == "application/problem+json"
    assert res.json["usedBy"] == ["crm.account.sector", "crm.account.sectors"]
    assert "crm.account.sector" in res.json["detail"] and "crm.account" in res.json["detail"]
    one = client.get("/api/v1/meta/option-sets/crm.industry", headers=auth(admin_token))
    assert one.status_code == 200  # nothing was deleted


def test_once_no_field_uses_it_an_option_set_can_be_deleted(app, admin_token):
    client = app.test_client()
    _apply_sets_and_account(client, admin_token)
    own = {
        "x-xrm": {"name": "crm.account"},
        "properties": {"sector": {"type": "string", "enum": ["retail", "energy"]}},
    }
    res = client.post(
        "/api/v1/meta/apply",
        json={"definitions": [own], "confirm": True},
        headers=auth(admin_token),
    )
    assert res.status_code == 200, res.json
    res = client.delete("/api/v1/meta/option-sets/crm.industry", headers=auth(admin_token))
    assert res.status_code == 204, res.json


def test_deleting_an_option_set_needs_credentials(app, admin_token):
    client = app.test_client()
    _apply_sets_and_account(client, admin_token)
    assert client.delete("/api/v1/meta/option-sets/crm.size").status_code == 401


def test_action_types_list_the_builtin_ones_with_their_parameters(app, admin_token):
    res = app.test_client().get("/api/v1/meta/action-types", headers=auth(admin_token))
    by_name = {t["name"]: t for t in res.json["items"]}
    assert set(by_name) >= {"setFields", "createRecord", "notify", "webhook"}
    assert by_name["webhook"]["required"] == ["url"]
    assert by_name["notify"]["params"]["to"]["type"] == "object"
    assert by_name["setFields"]["plugin"] is None


def test_apply_endpoint_with_a_null_fallback_empties_the_rows_that_do_not_convert(app, admin_token):
    client = app.test_client()
    text_size = {
        "x-xrm": {"name": "crm.account"},
        "properties": {"name": {"type": "string"}, "size": {"type": "string"}},
    }
    int_size = {
        "x-xrm": {"name": "crm.account"},
        "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
    }
    headers = auth(admin_token)
    client.post("/api/v1/meta/apply", json={"definitions": [text_size]}, headers=headers)
    for size in ("12", "twelve"):
        res = client.post(
            "/api/v1/data/crm.account", json={"name": size, "size": size}, headers=headers
        )
        assert res.status_code == 201
    res = client.post(
        "/api/v1/meta/apply", json={"definitions": [int_size], "confirm": True}, headers=headers
    )
    assert res.status_code == 409
    assert res.mimetype == "application/problem+json"
    assert "1 row(s) do not fit" in res.json["detail"]
    res = client.post(
        "/api/v1/meta/apply",
        json={"definitions": [int_size], "confirm": True, "fallbacks": "null"},
        headers=headers,
    )
    assert res.status_code == 400
    res = client.post(
        "/api/v1/meta/apply",
        json={
            "definitions": [int_size],
            "confirm": True,
            "fallbacks": {"crm.account.size": "null"},
        },
        headers=headers,
    )
    assert res.status_code == 200, res.json
    items = client.get("/api/v1/data/crm.account?order=id", headers=headers).json["items"]
    assert [(i["name"], i["size"]) for i in items] == [("12", 12), ("twelve", None)]
