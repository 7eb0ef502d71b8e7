"""The record endpoints: generic, live for new entities, problem+json errors, ETags."""

from __future__ import annotations

import pytest

from xrm.core.security import grants

ACCOUNT = {
    "x-xrm": {"name": "crm.account", "unique": [["code"]]},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "code": {"type": "string"},
        "size": {"type": "integer"},
    },
}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    client = app.test_client()

    class Api:
        def __getattr__(self, method):
            def call(path, token=admin_token, **kw):
                headers = {**auth(token), **kw.pop("headers", {})}
                return getattr(client, method)(f"/api/v1{path}", headers=headers, **kw)

            return call

    return Api()


def test_create_get_patch_delete_round_trip(api):
    created = api.post("/data/crm.account", json={"name": "Acme", "code": "A1"})
    assert created.status_code == 201
    rid = created.json["id"]
    assert created.headers["Location"].endswith(f"/data/crm.account/{rid}")
    got = api.get(f"/data/crm.account/{rid}")
    assert got.json["name"] == "Acme"
    patched = api.patch(
        f"/data/crm.account/{rid}", json={"size": 10}, headers={"If-Match": got.headers["ETag"]}
    )
    assert patched.status_code == 200
    assert patched.json["size"] == 10
    assert api.delete(f"/data/crm.account/{rid}").status_code == 204
    assert api.get(f"/data/crm.account/{rid}").status_code == 404


def test_a_stale_if_match_is_412_and_if_none_match_is_304(api):
    rid = api.post("/data/crm.account", json={"name": "Acme"}).json["id"]
    etag = api.get(f"/data/crm.account/{rid}").headers["ETag"]
    assert api.get(f"/data/crm.account/{rid}", headers={"If-None-Match": etag}).status_code == 304
    api.patch(f"/data/crm.account/{rid}", json={"size": 1})
    res = api.patch(f"/data/crm.account/{rid}", json={"size": 2}, headers={"If-Match": etag})
    assert res.status_code == 412
    assert res.mimetype == "application/problem+json"


def test_invalid_input_is_422_with_every_field_problem(api):
    res = api.post("/data/crm.account", json={"size": "big", "nope": 1})
    assert res.status_code == 422
    assert {e["pointer"] for e in res.json["errors"]} == {"/size", "/nope", "/name"}


def test_a_duplicate_unique_value_is_409(api):
    api.post("/data/crm.account", json={"name": "Acme", "code": "A1"})
    res = api.post("/data/crm.account", json={"name": "Other", "code": "A1"})
    assert res.status_code == 409


def test_list_filters_sorts_and_pages(api):
    for i in range(5):
        api.post("/data/crm.account", json={"name": f"N{i}", "size": i})
    page = api.get("/data/crm.account?size=gte.1&order=size.desc&limit=2&count=exact")
    assert [r["size"] for r in page.json["items"]] == [4, 3]
    assert page.json["count"] == 4
    nxt = api.get(
        f"/data/crm.account?size=gte.1&order=size.desc&limit=2&cursor={page.json['nextCursor']}"
    )
    assert [r["size"] for r in nxt.json["items"]] == [2, 1]


def test_a_bad_query_is_a_400_naming_the_parameter(api):
    res = api.get("/data/crm.account?size=between.1")
    assert res.status_code == 400
    assert res.mimetype == "application/problem+json"


def test_an_unknown_entity_is_404(api):
    assert api.get("/data/crm.nothing").status_code == 404


def test_history_lists_the_changes(api):
    rid = api.post("/data/crm.account", json={"name": "Acme"}).json["id"]
    api.patch(f"/data/crm.account/{rid}", json={"name": "Acme Ltd"})
    items = api.get(f"/data/crm.account/{rid}/history").json["items"]
    assert items[0]["changes"]["name"] == {"old": "Acme", "new": "Acme Ltd"}


def test_bulk_create_is_atomic_by_default(api):
    res = api.post("/data/crm.account/bulk", json={"records": [{"name": "A"}, {"size": "x"}]})
    assert res.status_code == 422
    assert res.json["errors"][0]["index"] == 1
    assert api.get("/data/crm.account").json["items"] == []


def test_bulk_with_per_record_results_keeps_the_good_ones(api):
    res = api.post(
        "/data/crm.account/bulk", json={"records": [{"name": "A"}, {"size": "x"}], "atomic": False}
    )
    assert res.status_code == 207
    assert [r.get("status") for r in res.json["results"]] == [201, 422]
    assert len(api.get("/data/crm.account").json["items"]) == 1


def test_bulk_upsert_by_an_alternate_key(api):
    api.post("/data/crm.account", json={"name": "Acme", "code": "A1"})
    res = api.post(
        "/data/crm.account/bulk",
        json={
            "mode": "upsert",
            "key": ["code"],
            "records": [{"code": "A1", "name": "Acme Ltd"}, {"code": "B2", "name": "Beta"}],
        },
    )
    assert [r["status"] for r in res.json["results"]] == [200, 201]
    names = sorted(r["name"] for r in api.get("/data/crm.account").json["items"])
    assert names == ["Acme Ltd", "Beta"]


def test_bulk_update_and_upsert_see_the_records_written_before_them(api):
    # Rows and key ids are read for the whole batch at once; a record or key met twice must
    # still see what the first write did (and its row version), and history stays per write.
    a = api.post("/data/crm.account", json={"name": "Acme", "code": "A1"}).json
    b = api.post("/data/crm.account", json={"name": "Beta", "code": "B2"}).json
    res = api.post(
        "/data/crm.account/bulk",
        json={
            "mode": "update",
            "records": [
                {"id": a["id"], "size": 1},
                {"id": b["id"], "name": "Beta 2"},
                {"id": a["id"], "name": "Acme 2"},
            ],
        },
    )
    assert [r["status"] for r in res.json["results"]] == [200, 200, 200]
    got = api.get(f"/data/crm.account/{a['id']}").json
    assert (got["name"], got["size"], got["row_version"]) == ("Acme 2", 1, 3)
    res = api.post(
        "/data/crm.account/bulk",
        json={
            "mode": "upsert",
            "key": ["code"],
            "records": [
                {"code": "C3", "name": "Gamma"},
                {"code": "B2", "name": "Beta 3"},
                {"code": "C3", "name": "Gamma 2"},
            ],
        },
    )
    assert [r["status"] for r in res.json["results"]] == [201, 200, 200]
    by_code = {r["code"]: r["name"] for r in api.get("/data/crm.account").json["items"]}
    assert by_code == {"A1": "Acme 2", "B2": "Beta 3", "C3": "Gamma 2"}
    assert len(api.get(f"/data/crm.account/{b['id']}/history").json["items"]) == 3
    res = api.post(
        "/data/crm.account/bulk",
        json={"mode": "update", "atomic": False, "records": [{"id": 10**6, "size": 2}, "x"]},
    )
    assert [r["status"] for r in res.json["results"]] == [404, 422]


def test_bulk_update_is_atomic_or_per_record(api):
    a = api.post("/data/crm.account", json={"name": "Acme"}).json["id"]
    b = api.post("/data/crm.account", json={"name": "Beta"}).json["id"]
    res = api.post(
        "/data/crm.account/bulk",
        json={"mode": "update", "records": [{"id": a, "size": 1}, {"id": b, "size": "x"}]},
    )
    assert res.status_code == 422 and res.json["errors"][0]["index"] == 1
    assert api.get(f"/data/crm.account/{a}").json["size"] is None
    res = api.post(
        "/data/crm.account/bulk",
        json={
            "mode": "update",
            "atomic": False,
            "records": [{"id": a, "size": 1}, {"id": b, "size": "x"}, {"id": 10**6}, {"x": 1}],
        },
    )
    assert res.status_code == 207
    assert [r["status"] for r in res.json["results"]] == [200, 422, 404, 422]
    assert api.get(f"/data/crm.account/{a}").json["size"] == 1
    res = api.post(
        "/data/crm.account/bulk",
        json={"mode": "update", "records": [{"id": a, "size": 2}, {"id": b, "size": 3}]},
    )
    assert [r["status"] for r in res.json["results"]] == [200, 200]
    assert [api.get(f"/data/crm.account/{i}").json["size"] for i in (a, b)] == [2, 3]
    api.patch(f"/data/crm.account/{a}", json={"code": "A1"})
    upsert = {"mode": "upsert", "key": ["code"]}
    res = api.post(
        "/data/crm.account/bulk",
        json={**upsert, "records": [{"code": "N1", "name": "New"}, {"code": "A1", "size": "x"}]},
    )
    assert res.status_code == 422 and res.json["errors"][0]["index"] == 1
    assert len(api.get("/data/crm.account").json["items"]) == 2  # N1 not created either
    res = api.post(
        "/data/crm.account/bulk",
        json={
            **upsert,
            "atomic": False,
            "records": [{"code": "N1", "name": "New"}, {"code": "A1", "size": "x"}],
        },
    )
    assert [r["status"] for r in res.json["results"]] == [201, 422]


def test_bulk_refuses_more_than_1000_records(api):
    res = api.post("/data/crm.account/bulk", json={"records": [{"name": "x"}] * 1001})
    assert res.status_code == 400


def test_changes_feed_returns_what_changed_since_a_token(api):
    rid = api.post("/data/crm.account", json={"name": "Acme"}).json["id"]
    first = api.get("/data/crm.account/changes?since=0").json
    assert [i["action"] for i in first["items"]] == ["created"]
    api.patch(f"/data/crm.account/{rid}", json={"size": 3})
    api.delete(f"/data/crm.account/{rid}")
    later = api.get(f"/data/crm.account/changes?since={first['next']}").json
    # the update is superseded: the record no longer exists, only its deletion is reported
    assert [(i["action"], i["id"]) for i in later["items"]] == [("deleted", rid)]


def test_recycle_bin_restore_and_purge(api):
    rid = api.post("/data/crm.account", json={"name": "Acme"}).json["id"]
    api.delete(f"/data/crm.account/{rid}")
    assert [i["id"] for i in api.get("/recycle-bin").json["items"]] == [rid]
    assert api.post(f"/recycle-bin/crm.account/{rid}/restore").status_code == 200
    assert api.get(f"/data/crm.account/{rid}").status_code == 200


def test_a_user_without_read_permission_gets_403(api, app):
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            "joe", "Joe", "U", "joe@example.org", sm.find_role("Public"), password="joe-password"
        )
    token = (
        app.test_client()
        .post(
            "/api/v1/security/login",
            json={"username": "joe", "password": "joe-password", "provider": "db"},
        )
        .json["access_token"]
    )
    assert api.get("/data/crm.account", token=token).status_code == 403
    with app.extensions["xrm"].engine.begin() as conn:
        grants.grant(conn, "Public", "crm.account", ["read"])
    assert api.get("/data/crm.account", token=token).status_code == 200
    assert api.post("/data/crm.account", token=token, json={"name": "x"}).status_code == 403


def _colleagues(app, api, scope):
    """Users me, mate (one team) and other, role Rep with ``scope`` on crm.account and the field
    ``size`` hidden from it; one account each, every one then given a size and a code by the
    administrator. Returns tokens and ids."""
    from xrm.core.security import directory

    with app.extensions["xrm"].engine.begin() as conn:
        grants.ensure_role(conn, "Rep")
        grants.grant(conn, "Rep", "crm.account", ["read", "create", "update", "delete"])
        grants.set_scope(conn, "Rep", "crm.account", scope)
        grants.secure_field(conn, "Admin", "crm.account", "size", read=True, write=True)
    with app.app_context():
        sm = app.appbuilder.sm
        users = {
            n: sm.add_user(
                n, n, "U", f"{n}@example.org", sm.find_role("Rep"), password=f"pw-{n}"
            ).id
            for n in ("me", "mate", "other")
        }
    with app.extensions["xrm"].engine.begin() as conn:
        directory.ensure_team(conn, "north", [users["me"], users["mate"]])
    client = app.test_client()
    tokens, ids = {}, {}
    for name in users:
        login = {"username": name, "password": f"pw-{name}", "provider": "db"}
        tokens[name] = client.post("/api/v1/security/login", json=login).json["access_token"]
        res = api.post("/data/crm.account", token=tokens[name], json={"name": name})
        assert res.status_code == 201, res.json
        ids[name] = res.json["id"]
        # a visible and a secured field changed together: the update is in everyone's history
        patch = {"size": 42, "code": f"C-{name}"}
        assert api.patch(f"/data/crm.account/{ids[name]}", json=patch).status_code == 200
    return tokens, ids


@pytest.mark.parametrize(
    ("scope", "seen"), [("own", {"me"}), ("team", {"me", "mate"}), ("all", {"me", "mate", "other"})]
)
def test_the_changes_feed_keeps_to_the_record_scope_and_hides_secured_fields(api, app, scope, seen):
    tokens, ids = _colleagues(app, api, scope)
    api.delete(f"/data/crm.account/{ids['other']}")  # a deletion out of scope stays unseen
    feed = api.get("/data/crm.account/changes?since=0", token=tokens["me"]).json
    names = {i["record"]["name"] for i in feed["items"] if i["action"] != "deleted"}
    assert names == seen - {"other"}
    deleted = [i["id"] for i in feed["items"] if i["action"] == "deleted"]
    assert deleted == ([ids["other"]] if "other" in seen else [])
    assert all("size" not in i.get("record", {}) for i in feed["items"])
    assert any(
        i["record"]["size"] == 42 for i in api.get("/data/crm.account/changes").json["items"]
    )


@pytest.mark.parametrize(
    ("scope", "seen"), [("own", {"me"}), ("team", {"me", "mate"}), ("all", {"me", "mate", "other"})]
)
def test_history_keeps_to_the_record_scope_and_hides_secured_fields(api, app, scope, seen):
    tokens, ids = _colleagues(app, api, scope)
    for name, rid in ids.items():
        res = api.get(f"/data/crm.account/{rid}/history", token=tokens["me"])
        if name not in seen:
            assert res.status_code == 404
            assert res.mimetype == "application/problem+json"
            continue
        assert res.status_code == 200
        update, _create = res.json["items"]
        assert update["changes"] == {"code": {"old": None, "new": f"C-{name}"}}
        assert all("size" not in e["changes"] for e in res.json["items"])
    full = api.get(f"/data/crm.account/{ids['me']}/history").json["items"]
    assert full[0]["changes"]["size"] == {"old": None, "new": 42}
