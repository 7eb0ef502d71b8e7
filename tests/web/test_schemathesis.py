"""Property-based API testing: schemathesis generates requests from the live OpenAPI document
and checks every answer against it (no 500, a documented status, content type, headers and
body). It runs in-process on the WSGI app, as an administrator, on one small entity with many
field types, in a few hundred requests.

schemathesis' own pytest integration does not run under pytest 9: ``api_conformance`` drives
each operation's Hypothesis strategy directly."""

from __future__ import annotations

import os
import time

import pytest

schemathesis = pytest.importorskip("schemathesis")

from api_conformance import conformance_failures  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ITEM = {
    "x-xrm": {"name": "demo.item", "unique": [["code"]]},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 60},
        "code": {"type": "string", "maxLength": 12},
        "qty": {"type": "integer", "minimum": 0, "maximum": 1000},
        "price": {"x-xrm": {"type": "decimal", "precision": 10, "scale": 2}},
        "weight": {"type": "number"},
        "active": {"type": "boolean", "default": True},
        "due": {"type": "string", "format": "date"},
        "seen_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["new", "open", "done"]},
        "labels": {"type": "array", "items": {"type": "string", "enum": ["red", "blue"]}},
        "parent": {"x-xrm": {"type": "reference", "target": "demo.item", "onDelete": "setNull"}},
        "budget": {"x-xrm": {"type": "money"}},
        "key": {"type": "string", "format": "uuid"},
        "notes": {"x-xrm": {"type": "longtext"}},
    },
}

#: The operations under test: the entity's records, the recycle bin, metadata reads and plans
#: (apply and PUT are left out: random definitions would rebuild the schema under the run).
OPERATIONS = r"^/(data/demo\.item|recycle-bin|meta/entities|meta/schemas|meta/plan)"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

MAX_ID = 2**63 - 1
BACKEND = os.environ.get("XRM_TEST_DATABASE", "sqlite")


@pytest.fixture
def app(make_app):
    # Hundreds of requests in seconds: far above the default per-user rate limit.
    app = make_app(XRM_RATE_LIMIT="100000 per minute")
    app.extensions["xrm"].registry.apply_documents([ITEM])
    return app


@pytest.fixture
def api(app, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    client = app.test_client()
    for i in range(3):
        res = client.post(
            "/api/v1/data/demo.item", json={"name": f"item {i}", "qty": i}, headers=headers
        )
        assert res.status_code == 201
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    return schema.include(path_regex=OPERATIONS).exclude(method="PUT"), headers, client


def test_every_answer_matches_the_document(api):
    schema, headers, _client = api
    started = time.monotonic()
    runs = ((GenerationMode.POSITIVE, 15), (GenerationMode.NEGATIVE, 10))
    failures = conformance_failures(schema, headers, CHECKS, runs)
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < 90, "the bounded run took too long"


#: The workflow, rules, administration and personal surfaces, with a workflow on demo.item:
#: reads, verification, transitions, approvals, form state, tokens, roles, users (teams have
#: their own run below), saved views, the inbox.
#: Left out: PUT and DELETE (random documents and deletions would change what the run stands
#: on) and PATCH of users (an administrator deactivating the caller).
MORE_OPERATIONS = (
    r"^/(meta/(workflows|rules|schemas/(workflow|rules)|action-types)"
    r"|data/\{entity\}/|tokens|admin/(roles|users|audit|jobs)|views|inbox)"
)

ITEM_FLOW = {
    "name": "demo.item_flow",
    "entity": "demo.item",
    "stateField": "status",
    "states": {"new": {"initial": True}, "open": {}, "done": {"final": True}},
    "transitions": [
        {"name": "start", "from": "new", "to": "open", "guard": "record.qty >= 0"},
        {"name": "finish", "from": "open", "to": "done", "requireComment": True},
    ],
}


def test_every_answer_of_the_workflow_and_admin_surfaces_matches_the_document(app, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    client = app.test_client()
    res = client.put("/api/v1/meta/workflows/demo.item_flow", json=ITEM_FLOW, headers=headers)
    assert res.status_code in (200, 201), res.json
    for i in range(2):
        res = client.post("/api/v1/data/demo.item", json={"name": f"x{i}"}, headers=headers)
        assert res.status_code == 201
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    schema = schema.include(path_regex=MORE_OPERATIONS).exclude(method=["PUT", "DELETE"])
    schema = schema.exclude(path_regex=r"^/admin/users/")
    labels = {r.ok().label for r in schema.get_all_operations()}
    assert len(labels) >= 30, sorted(labels)  # the filters above keep what they should
    assert "POST /data/{entity}/{id}/transitions/{transition}" in labels
    assert {"POST /admin/roles", "POST /admin/users"} <= labels
    started = time.monotonic()
    runs = ((GenerationMode.POSITIVE, 10), (GenerationMode.NEGATIVE, 6))
    failures = conformance_failures(schema, headers, CHECKS, runs)
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < 120, "the bounded run took too long"


def test_a_huge_decimal_is_an_invalid_value(api):
    _schema, headers, client = api
    res = client.post("/api/v1/data/demo.item", json={"name": "x", "price": 1e300}, headers=headers)
    assert res.status_code == 422


def test_a_reference_beyond_64_bits_is_an_invalid_value(api):
    _schema, headers, client = api
    res = client.post(
        "/api/v1/data/demo.item", json={"name": "x", "parent": 2**64}, headers=headers
    )
    assert res.status_code in (404, 422)


def test_a_nul_character_in_text_is_not_a_server_error(api):
    _schema, headers, client = api
    res = client.post("/api/v1/data/demo.item", json={"name": "a\x00b"}, headers=headers)
    assert res.status_code != 500


def test_a_lone_surrogate_in_text_is_not_a_server_error(api):
    _schema, headers, client = api
    res = client.post(
        "/api/v1/data/demo.item",
        data='{"name": "a\\ud800b"}',
        content_type="application/json",
        headers=headers,
    )
    assert res.status_code != 500


# -- bugs it found in the web layer, fixed ------------------------------------------------------

HUGE = 2**70


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/data/demo.item/{HUGE}"),
        ("patch", f"/data/demo.item/{HUGE}"),
        ("delete", f"/data/demo.item/{HUGE}"),
        ("get", f"/data/demo.item/{HUGE}/history"),
        ("post", f"/recycle-bin/demo.item/{HUGE}/restore"),
        ("delete", f"/recycle-bin/demo.item/{HUGE}"),
    ],
)
def test_an_id_beyond_64_bits_is_not_found(api, method, path):
    _schema, headers, client = api
    res = getattr(client, method)(f"/api/v1{path}", json={}, headers=headers)
    assert res.status_code == 404
    assert res.mimetype == "application/problem+json"


def test_a_bulk_update_of_an_id_beyond_64_bits_is_not_found(api):
    _schema, headers, client = api
    body = {"mode": "update", "records": [{"id": HUGE, "qty": 1}]}
    res = client.post("/api/v1/data/demo.item/bulk", json=body, headers=headers)
    assert res.status_code == 404


@pytest.mark.parametrize("query", ["since=%C2%B2", f"since={HUGE}", "since=-1"])
def test_a_changes_token_that_is_no_token_is_a_bad_request(api, query):
    _schema, headers, client = api
    res = client.get(f"/api/v1/data/demo.item/changes?{query}", headers=headers)
    assert res.status_code == 400


def test_the_changes_feed_returns_at_least_one_change_per_page(api):
    _schema, headers, client = api
    page = client.get("/api/v1/data/demo.item/changes?since=0&limit=0", headers=headers).json
    assert len(page["items"]) == 1
    assert page["more"] is True
    assert page["next"] != "0"


@pytest.mark.parametrize("tag", ['"1-\u00b2"', f'"1-{HUGE}"'])
def test_an_if_match_that_names_no_version_is_a_failed_precondition(api, tag):
    _schema, headers, client = api
    res = client.patch(
        "/api/v1/data/demo.item/1", json={"qty": 2}, headers={**headers, "If-Match": tag}
    )
    assert res.status_code == 412


def test_a_recycle_bin_filter_that_is_no_entity_name_is_a_bad_request(api):
    _schema, headers, client = api
    res = client.get("/api/v1/recycle-bin?entity=%00", headers=headers)
    assert res.status_code == 400


def test_a_plan_removing_something_that_is_no_entity_name_is_a_bad_request(api):
    _schema, headers, client = api
    res = client.post("/api/v1/meta/plan", json={"removed": [[]]}, headers=headers)
    assert res.status_code == 400


def test_a_role_or_user_name_with_a_nul_is_an_invalid_value_or_not_found(api):
    # Found by the run over the administration surface: PostgreSQL refuses NUL in text (500).
    # A body's value is invalid (422, pointing at it); a role of the URL is not found (404).
    _schema, headers, client = api
    res = client.post("/api/v1/admin/roles", json={"name": "Hy\x00B"}, headers=headers)
    assert res.status_code == 422
    assert [e["pointer"] for e in res.json["errors"]] == ["/name"]
    assert "NUL" in res.json["detail"]
    res = client.put(
        "/api/v1/admin/roles/a%00b/entities/demo.item", json={"actions": []}, headers=headers
    )
    assert res.status_code == 404
    user = {"username": "u\x00", "email": "u@example.org", "password": "pw-long-enough"}
    res = client.post("/api/v1/admin/users", json=user, headers=headers)
    assert res.status_code == 422 and res.json["errors"][0]["pointer"] == "/username"
    res = client.post(
        "/api/v1/admin/users", json={**user, "username": "u", "roles": ["Nope"]}, headers=headers
    )
    assert res.status_code == 422 and "'Nope'" in res.json["detail"]


def test_every_team_answer_matches_the_document(app, admin_token):
    """The team administration endpoints, with generated names, members and bodies."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    client = app.test_client()
    client.post("/api/v1/admin/teams", json={"name": "north"}, headers=headers)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    schema = schema.include(path_regex=r"^/admin/teams")
    runs = ((GenerationMode.POSITIVE, 15), (GenerationMode.NEGATIVE, 10))
    failures = conformance_failures(schema, headers, CHECKS, runs)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(
    "path", ["/meta/workflows", "/meta/rules", "/views", "/recycle-bin", "/admin/jobs"]
)
def test_a_listing_filter_with_a_nul_is_a_bad_request(api, path):
    # Found by the run over the workflow and admin surfaces: NUL reached PostgreSQL (500).
    _schema, headers, client = api
    name = "topic" if path == "/admin/jobs" else "entity"
    res = client.get(f"/api/v1{path}?{name}=a%00b", headers=headers)
    assert res.status_code == 400
    assert res.mimetype == "application/problem+json"


def test_any_query_parameter_with_a_nul_is_a_bad_request(api):
    _schema, headers, client = api
    for query in ("name=eq.a%00b", "select=name%00", "a%00=1"):
        res = client.get(f"/api/v1/data/demo.item?{query}", headers=headers)
        assert res.status_code == 400, query
        assert "NUL" in res.json["detail"]
