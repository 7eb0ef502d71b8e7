"""The live OpenAPI 3.1 document (/api/v1/openapi.json) and the browsable API (/api/v1/docs)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from xrm.web.openapi import build_document

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "tier": {"type": "string", "enum": ["gold", "silver"]},
        "parent": {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "setNull"}},
        "revenue": {"x-xrm": {"type": "money"}},
        "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
    },
}
TAG = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}
CONTACT = {
    "x-xrm": {"name": "crm.contact"},
    "required": ["last_name"],
    "properties": {
        "last_name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "score": {"type": "number"},
        "rating": {"x-xrm": {"type": "decimal", "precision": 10, "scale": 2}},
        "active": {"type": "boolean", "default": True},
        "born": {"type": "string", "format": "date"},
        "seen_at": {"type": "string", "format": "date-time"},
        "channels": {"type": "array", "items": {"type": "string", "enum": ["email", "phone"]}},
        "account": {"x-xrm": {"type": "reference", "target": "crm.account"}},
        "prefs": {"type": "object"},
        "about": {"x-xrm": {"type": "regarding"}},
        "key": {"type": "string", "format": "uuid"},
        "notes": {"x-xrm": {"type": "longtext"}},
        # Field names that are also query words: filtered only inside groups.
        "count": {"type": "integer"},
        "cursor": {"type": "string"},
    },
}
# Its input schema's natural name is crm.account's ("crm_account_input"): must not clash.
ACCOUNT_INPUT = {"x-xrm": {"name": "crm.account_input"}, "properties": {"x": {"type": "string"}}}

ENTITIES = [ACCOUNT, TAG, CONTACT, ACCOUNT_INPUT]
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app, admin_token):
    app.extensions["xrm"].registry.apply_documents(ENTITIES)
    client = app.test_client()

    class Api:
        def get(self, path, **kw):
            headers = {**auth(admin_token), **kw.pop("headers", {})}
            return client.get(f"/api/v1{path}", headers=headers, **kw)

        def post(self, path, **kw):
            return client.post(f"/api/v1{path}", headers=auth(admin_token), **kw)

    return Api()


@pytest.fixture
def doc(api):
    res = api.get("/openapi.json")
    assert res.status_code == 200, res.data
    return res.json


def resolve(doc, obj):
    while "$ref" in obj:
        _, kind, name = obj["$ref"].removeprefix("#/").split("/")
        obj = doc["components"][kind][name]
    return obj


# -- the document -----------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(doc):
    from openapi_spec_validator import validate

    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_the_generator_is_a_pure_function_of_the_snapshot(registry):
    from openapi_spec_validator import validate

    registry.apply_documents(ENTITIES)
    snapshot = registry.snapshot()
    doc = build_document(snapshot)
    validate(doc)
    assert doc == build_document(snapshot)
    assert doc["x-xrm-metadata-version"] == snapshot.version


def test_every_entity_has_its_record_endpoints(doc):
    for name in ("crm.account", "crm.tag", "crm.contact", "crm.account_input"):
        base = f"/data/{name}"
        assert set(doc["paths"][base]) == {"get", "post"}
        assert set(doc["paths"][f"{base}/{{id}}"]) == {"parameters", "get", "patch", "delete"}
        assert "get" in doc["paths"][f"{base}/{{id}}/history"]
        assert "post" in doc["paths"][f"{base}/bulk"]
        assert "get" in doc["paths"][f"{base}/changes"]


def test_import_is_described_with_its_file_options_report_and_errors(doc):
    op = doc["paths"]["/data/crm.contact/import"]["post"]
    body = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"]
    assert body["properties"]["file"]["format"] == "binary"
    options = {"mapping", "key", "mode", "dryRun", "emptyCells"}
    assert options <= set(body["properties"])
    assert options == {p["name"] for p in op["parameters"]}
    report = {"$ref": "#/components/schemas/ImportReport"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == report
    refused = op["responses"]["422"]["content"]
    assert refused["application/json"]["schema"] == report
    assert refused["application/problem+json"]["schema"] == PROBLEM_REF
    assert {"400", "401", "403", "404", "429"} <= set(op["responses"])
    assert "errors" in doc["components"]["schemas"]["ImportReport"]["required"]


def test_export_is_described_with_the_list_query_and_both_formats(doc):
    op = doc["paths"]["/data/crm.contact/export"]["get"]
    names = {p.get("name") for p in op["parameters"]}
    assert {"format", "header", "order", "select", "limit", "last_name", "age"} <= names
    fmt = next(p for p in op["parameters"] if p.get("name") == "format")
    assert fmt["schema"]["enum"] == ["csv", "xlsx"]
    content = op["responses"]["200"]["content"]
    assert set(content) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert {"400", "401", "403", "404"} <= set(op["responses"])


def test_the_metadata_endpoints_and_the_recycle_bin_are_described(doc):
    paths = doc["paths"]
    assert "get" in paths["/meta/entities"]
    assert {"get", "put"} <= set(paths["/meta/entities/{name}"])
    assert "post" in paths["/meta/plan"]
    assert "post" in paths["/meta/apply"]
    assert paths["/meta/schemas/entity"]["get"]["security"] == []
    assert "get" in paths["/recycle-bin"]
    assert "post" in paths["/recycle-bin/{entity}/{id}/restore"]
    assert "delete" in paths["/recycle-bin/{entity}/{id}"]


def test_components_embed_the_record_and_input_schemas(app, doc):
    snap = app.extensions["xrm"].registry.snapshot()
    schemas = doc["components"]["schemas"]
    for name, ce in snap.entities.items():
        record = dict(schemas[name])
        record.pop("description")
        assert record == ce.record_schema
        assert schemas[f"{name}.input"]["properties"] == ce.input_schema["properties"]
        assert schemas[f"{name}.input"]["required"] == ce.input_schema["required"]
        assert "required" not in schemas[f"{name}.patch"]
        assert schemas[f"{name}.patch"]["properties"] == ce.input_schema["properties"]
    assert schemas["crm.contact"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schemas["crm.account_input"]["title"] != schemas["crm.account.input"]["title"]


def test_create_patch_and_get_use_the_entity_schemas(doc):
    item = doc["paths"]["/data/crm.contact/{id}"]
    body = doc["paths"]["/data/crm.contact"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/crm.contact.input"}
    patch = item["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert patch == {"$ref": "#/components/schemas/crm.contact.patch"}
    got = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert got == {"$ref": "#/components/schemas/crm.contact"}


def test_the_list_has_a_filter_parameter_per_field_with_its_operators(app, doc):
    ce = app.extensions["xrm"].registry.snapshot().entities["crm.contact"]
    params = [resolve(doc, p) for p in doc["paths"]["/data/crm.contact"]["get"]["parameters"]]
    by_name = {p["name"]: p for p in params}
    for field in ("last_name", "age", "born", "channels", "account", "id", "created_at"):
        assert field in by_name, field
    assert "`gt`" in by_name["age"]["description"]
    assert "`ilike`" in by_name["last_name"]["description"]
    assert "`cs`" in by_name["channels"]["description"]  # "contains" as the grammar spells it
    assert "`gt`" not in by_name["last_name"]["description"]
    assert re.match(by_name["age"]["schema"]["pattern"], "not.gt.5")
    assert not re.match(by_name["last_name"]["schema"]["pattern"], "gt.5")
    for word in ("order", "select", "limit", "cursor", "count", "or", "and", "not.or"):
        assert word in by_name
    # A field named like a query word is no filter parameter (it is filtered in a group).
    assert by_name["count"]["schema"] == {"enum": ["exact"]}
    assert sum(1 for p in params if p["name"] == "cursor") == 1
    filters = {p["name"] for p in params if p["description"].startswith("Filter on")}
    assert filters == set(ce.operators) - {"count", "cursor"}


def test_order_lists_only_sortable_fields(doc):
    params = doc["paths"]["/data/crm.contact"]["get"]["parameters"]
    order = next(p for p in params if p.get("name") == "order")
    pattern = order["schema"]["pattern"]
    assert re.match(pattern, "last_name.desc.nullslast,id")
    assert not re.match(pattern, "channels")  # multichoice cannot be sorted on
    assert "`age`" in order["description"]


def test_errors_are_problem_json(doc):
    for name, response in doc["components"]["responses"].items():
        assert response["content"] == {"application/problem+json": {"schema": PROBLEM_REF}}, name
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    ops = doc["paths"]["/data/crm.contact/{id}"]
    assert {"401", "403", "404", "409", "412", "422", "429"} <= set(ops["patch"]["responses"])
    assert {"401", "404", "412", "429"} <= set(ops["delete"]["responses"])
    create = doc["paths"]["/data/crm.contact"]["post"]["responses"]
    assert {"400", "401", "403", "409", "422", "429"} <= set(create)
    too_many = doc["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in too_many["headers"]


def test_admin_writes_declare_400_for_a_malformed_body_and_422_for_invalid_values(doc):
    writes = {
        ("/admin/roles", "post"): {"400", "409", "422"},
        ("/admin/roles/{role}/entities/{entity}", "put"): {"400", "404", "422"},
        ("/admin/roles/{role}/entities/{entity}/fields/{field}", "put"): {"400", "404", "422"},
        ("/admin/users", "post"): {"400", "409", "422"},
        ("/admin/users/{id}", "patch"): {"400", "404", "422"},
        ("/admin/teams", "post"): {"400", "409", "422"},
        ("/admin/teams/{name}", "patch"): {"400", "404", "409", "422"},
        ("/admin/plugins/{name}/install", "post"): {"400", "404", "422"},
        ("/admin/plugins/{name}", "delete"): {"400", "404", "422"},
    }
    for (path, method), statuses in writes.items():
        assert statuses <= set(doc["paths"][path][method]["responses"]), (method, path)
    unsecure = doc["paths"]["/admin/roles/{role}/entities/{entity}/fields/{field}"]["delete"]
    assert "404" in unsecure["responses"]  # an unknown role
    assert "404" not in doc["paths"]["/admin/teams"]["post"]["responses"]  # a member is a value


def test_etags_location_and_not_modified_are_described(doc):
    item = doc["paths"]["/data/crm.contact/{id}"]
    names = lambda op: {resolve(doc, p)["name"] for p in op.get("parameters", [])}  # noqa: E731
    assert "If-None-Match" in names(item["get"])
    assert "If-Match" in names(item["patch"])
    assert "If-Match" in names(item["delete"])
    assert "ETag" in item["get"]["responses"]["304"]["headers"]
    assert "ETag" in item["get"]["responses"]["200"]["headers"]
    created = doc["paths"]["/data/crm.contact"]["post"]["responses"]["201"]
    assert {"ETag", "Location"} <= set(created["headers"])


def test_security_is_a_bearer_jwt(doc):
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT"
    assert doc["security"] == [{"bearerAuth": []}]


def test_list_items_may_be_expanded_references(doc):
    listed = doc["components"]["schemas"]["crm.contact.listed"]
    assert listed["required"] == ["id"]
    account = listed["properties"]["account"]["anyOf"]
    assert {"anyOf": [{"$ref": "#/components/schemas/crm.account.listed"}, {"type": "null"}]} in (
        account
    )


# -- serving ----------------------------------------------------------------------------------


def test_the_document_needs_credentials(app):
    res = app.test_client().get("/api/v1/openapi.json")
    assert res.status_code == 401
    assert res.mimetype == "application/problem+json"


def test_a_new_entity_appears_without_restart(api, doc):
    assert "/data/crm.deal" not in doc["paths"]
    deal = {"x-xrm": {"name": "crm.deal"}, "properties": {"title": {"type": "string"}}}
    applied = api.post("/meta/apply", json={"definitions": [deal]})
    assert applied.status_code == 200, applied.json
    res = api.get("/openapi.json")
    assert "/data/crm.deal" in res.json["paths"]
    assert "crm.deal" in res.json["components"]["schemas"]
    assert res.json["x-xrm-metadata-version"] == applied.json["version"]
    assert res.headers["X-Xrm-Metadata-Version"] == str(applied.json["version"])


def test_the_etag_is_the_metadata_version_and_answers_304(api):
    first = api.get("/openapi.json")
    version = first.json["x-xrm-metadata-version"]
    assert first.headers["ETag"].startswith(f'"{version}-')
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = api.get("/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_the_document_is_rebuilt_only_when_the_metadata_version_changes(api, monkeypatch):
    from xrm.web.openapi import routes

    builds = []
    real = routes.build_document
    monkeypatch.setattr(
        routes, "build_document", lambda *a, **kw: builds.append(1) or real(*a, **kw)
    )
    for _ in range(3):
        assert api.get("/openapi.json").status_code == 200
    assert len(builds) == 1
    api.post("/meta/apply", json={"definitions": [{**TAG, "title": "Tag, renamed"}]})
    api.get("/openapi.json")
    api.get("/openapi.json")
    assert len(builds) == 2


def test_the_cache_lives_on_each_application(make_app):
    from xrm.web.openapi.routes import CACHE_KEY, document_cache

    first, second = make_app(), make_app()
    assert document_cache(first) is document_cache(first)
    assert document_cache(first) is not document_cache(second)
    assert first.extensions[CACHE_KEY] is document_cache(first)


# -- the browsable API ------------------------------------------------------------------------


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("src", "href") and value:
                self.urls.append(value)


EXTERNAL = re.compile(r"(https?:)?//[a-z0-9.-]+", re.IGNORECASE)


def test_the_docs_page_is_served_from_local_assets_only(app):
    client = app.test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    parser = _References()
    parser.feed(html)
    assert any(u.endswith("swagger-ui-bundle.js") for u in parser.urls)
    assert any(u.endswith("swagger-ui.css") for u in parser.urls)
    assert "/api/v1/openapi.json" in parser.urls
    for url in parser.urls:
        if url == "/api/v1/openapi.json":
            continue  # needs credentials; tested above
        assert url.startswith("/"), url
        res = client.get(url)
        assert res.status_code == 200, url
        assert res.content_length or res.data, url
        if url.endswith(".css"):  # what a stylesheet loads: url(...) and @import
            text = res.get_data(as_text=True)
            loads = re.findall(r"url\(\s*['\"]?([^'\")]*)|@import\s+['\"]([^'\"]*)", text)
            assert not [u for pair in loads for u in pair if EXTERNAL.match(u)], url
        if url.endswith("xrm-docs.js"):
            assert not EXTERNAL.search(res.get_data(as_text=True))


def test_the_docs_page_configures_swagger_ui_without_an_online_validator(app):
    client = app.test_client()
    script = client.get("/api/v1/docs/xrm-docs.js").get_data(as_text=True)
    assert "validatorUrl: null" in script
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2Fflask_swagger_ui.py").status_code == 404
