"""/api/v1/admin/plugins: the lifecycle over HTTP, errors as problem+json."""

from __future__ import annotations

import pytest
from plugin_samples import Catalog, Orders

from tests.conftest import ADMIN_PASSWORD


@pytest.fixture
def client(make_app):
    app = make_app(plugins={"catalog": Catalog(), "orders": Orders()})
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            "admin", "A", "U", "a@example.org", sm.find_role("Admin"), password=ADMIN_PASSWORD
        )
        sm.add_user(
            "joe", "J", "U", "j@example.org", sm.find_role("Public"), password=ADMIN_PASSWORD
        )
    c = app.test_client()

    def login(user):
        res = c.post(
            "/api/v1/security/login",
            json={"username": user, "password": ADMIN_PASSWORD, "provider": "db"},
        )
        return {"Authorization": f"Bearer {res.json['access_token']}"}

    c.admin = login("admin")
    c.joe = login("joe")
    return c


def test_only_administrators_manage_plugins(client):
    res = client.get("/api/v1/admin/plugins", headers=client.joe)
    assert res.status_code == 403
    assert res.mimetype == "application/problem+json"


def test_list_and_get_one(client):
    res = client.get("/api/v1/admin/plugins", headers=client.admin)
    assert res.status_code == 200
    assert [(p["name"], p["status"]) for p in res.json["items"]] == [
        ("catalog", "available"),
        ("orders", "available"),
    ]
    one = client.get("/api/v1/admin/plugins/orders", headers=client.admin).json
    assert one["requires"] == ["catalog>=1.0"] and one["installed"] is None
    assert one["contributes"]["entity_definitions"] == ["orders.order"]
    assert client.get("/api/v1/admin/plugins/catalog", headers=client.admin).json["requiredBy"] == [
        "orders"
    ]


def test_an_unknown_plugin_is_404(client):
    res = client.get("/api/v1/admin/plugins/nope", headers=client.admin)
    assert res.status_code == 404 and res.json["plugin"] == "nope"


def test_install_dry_run_then_install(client):
    res = client.post(
        "/api/v1/admin/plugins/catalog/install", json={"dry_run": True}, headers=client.admin
    )
    assert res.status_code == 200 and res.json["applied"] is False
    assert res.json["definitions"]["operations"][0]["op"] == "create_entity"
    assert (
        client.get("/api/v1/admin/plugins/catalog", headers=client.admin).json["installed"] is None
    )
    res = client.post("/api/v1/admin/plugins/catalog/install", headers=client.admin)
    assert res.status_code == 201 and res.json["applied"] is True
    assert res.json["roles"] == [{"name": "Catalog Editor", "action": "create"}]
    one = client.get("/api/v1/admin/plugins/catalog", headers=client.admin).json
    assert one["installed"]["installedVersion"] == "1.0.0"
    assert one["installed"]["installedBy"] == "admin"
    assert one["entities"] == ["catalog.product"]
    # the entity is served at once
    assert client.get("/api/v1/data/catalog.product", headers=client.admin).status_code == 200


def test_a_missing_dependency_is_a_409_naming_the_plugin(client):
    res = client.post("/api/v1/admin/plugins/orders/install", headers=client.admin)
    assert res.status_code == 409
    assert res.json["title"] == "Plugin dependency error" and res.json["plugin"] == "orders"
    assert "install 'catalog' first" in res.json["detail"]


def test_options_that_are_not_a_json_object_are_a_400(client):
    res = client.post(
        "/api/v1/admin/plugins/catalog/install", json=["dry_run"], headers=client.admin
    )
    assert res.status_code == 400 and res.mimetype == "application/problem+json"


def test_unknown_or_non_boolean_options_are_a_422_with_a_pointer_each(client):
    res = client.post(
        "/api/v1/admin/plugins/catalog/install",
        json={"dryrun": True, "confirm": "yes"},
        headers=client.admin,
    )
    assert res.status_code == 422 and res.mimetype == "application/problem+json"
    assert "dryrun" in res.json["detail"]
    assert [e["pointer"] for e in res.json["errors"]] == ["/confirm", "/dryrun"]
    assert (
        client.get("/api/v1/admin/plugins/catalog", headers=client.admin).json["installed"] is None
    )


def test_an_uninstall_with_a_non_boolean_option_is_a_422_and_uninstalls_nothing(client):
    res = client.post("/api/v1/admin/plugins/catalog/install", headers=client.admin)
    assert res.status_code == 201
    res = client.delete("/api/v1/admin/plugins/catalog", json={"purge": 1}, headers=client.admin)
    assert res.status_code == 422
    assert [e["pointer"] for e in res.json["errors"]] == ["/purge"]
    assert client.get("/api/v1/admin/plugins/catalog", headers=client.admin).json["installed"]


def test_disable_enable_and_uninstall_with_purge(client):
    client.post("/api/v1/admin/plugins/catalog/install", headers=client.admin)
    client.post("/api/v1/data/catalog.product", json={"title": "keep me"}, headers=client.admin)
    res = client.post("/api/v1/admin/plugins/catalog/disable", headers=client.admin)
    assert res.status_code == 200 and res.json["action"] == "disable"
    listed = client.get("/api/v1/admin/plugins", headers=client.admin).json["items"]
    assert listed[0]["status"] == "disabled"
    assert (
        client.post("/api/v1/admin/plugins/catalog/enable", headers=client.admin).status_code == 200
    )

    res = client.delete("/api/v1/admin/plugins/catalog", headers=client.admin)
    assert res.status_code == 409
    assert res.json["data"] == {"catalog.product": 1}
    res = client.delete(
        "/api/v1/admin/plugins/catalog?purge=true&dry_run=true", headers=client.admin
    )
    assert res.status_code == 200 and res.json["applied"] is False
    res = client.delete("/api/v1/admin/plugins/catalog?purge=true", headers=client.admin)
    assert res.status_code == 200 and res.json["applied"] is True
    assert len(res.json["archivedTables"]) == 1
    assert client.get("/api/v1/data/catalog.product", headers=client.admin).status_code == 404


def test_upgrade_of_a_plugin_not_installed_is_a_conflict(client):
    res = client.post("/api/v1/admin/plugins/catalog/upgrade", headers=client.admin)
    assert res.status_code == 409 and "not installed" in res.json["detail"]


def test_the_plugin_endpoints_are_in_the_openapi_document(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json", headers=client.admin).json
    validate(doc)
    assert set(doc["paths"]["/admin/plugins/{name}"]) == {"get", "delete"}
    assert "post" in doc["paths"]["/admin/plugins/{name}/install"]
