"""The permissions matrix, driven as an administrator would: taking away a role's right shows
at once in what its users may do (403), field security hides a field, and the admin pages
themselves are closed to everyone else."""

from __future__ import annotations

import pytest
from admin_fixtures import shoot
from browser_kit import ApiError, allow_console_errors, login, make_user

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "properties": {"name": {"type": "string"}, "revenue": {"type": "integer"}},
}


def _as(server, username, password):
    token = server.token(username, password)
    return lambda method, path, body=None: server.request(
        method, "/api/v1" + path, body, token=token
    )


def _cell(page, role, entity):
    return page.locator(f"#xa-matrix td[data-role='{role}'][data-entity='{entity}']")


def test_unticking_read_in_the_matrix_takes_the_data_away(logged_in, live_server):
    page = logged_in
    live_server.apply(ACCOUNT)
    live_server.api("POST", "/data/crm.account", {"name": "ACME", "revenue": 7})
    make_user(
        live_server,
        "sam",
        "sam-password-1",
        role="Sales",
        grants={"crm.account": ["read", "update"]},
    )
    sam = _as(live_server, "sam", "sam-password-1")
    assert len(sam("GET", "/data/crm.account")["items"]) == 1

    page.goto("/admin/permissions")
    cell = _cell(page, "Sales", "crm.account")
    assert cell.locator("input[name=read]").is_checked()
    assert not cell.locator("input[name=delete]").is_checked()
    shoot(page, "admin_permissions")
    cell.locator("input[name=read]").uncheck()
    page.wait_for_selector(
        "#xa-matrix td[data-role='Sales'][data-entity='crm.account'][data-saved]"
    )

    with pytest.raises(ApiError) as refused:
        sam("GET", "/data/crm.account")
    assert refused.value.status == 403
    page.reload()
    assert not _cell(page, "Sales", "crm.account").locator("input[name=read]").is_checked()
    assert _cell(page, "Sales", "crm.account").locator("input[name=update]").is_checked()


def test_record_scope_and_field_security_are_set_from_the_matrix(logged_in, live_server):
    page = logged_in
    live_server.apply(ACCOUNT)
    live_server.api("POST", "/data/crm.account", {"name": "Not Sam's", "revenue": 7})
    make_user(
        live_server,
        "sam",
        "sam-password-1",
        role="Sales",
        grants={"crm.account": ["read", "create"]},
    )
    sam = _as(live_server, "sam", "sam-password-1")
    sam("POST", "/data/crm.account", {"name": "Sam's", "revenue": 3})

    page.goto("/admin/permissions")
    _cell(page, "Sales", "crm.account").locator("select[name=scope]").select_option("own")
    page.wait_for_selector(
        "#xa-matrix td[data-role='Sales'][data-entity='crm.account'][data-saved]"
    )
    page.click("#xa-matrix tr[data-entity='crm.account'] button[name=field-security]")
    revenue = page.locator("#xa-fields-panel tr[data-field='revenue'] select[data-role='Sales']")
    revenue.select_option("none")
    page.wait_for_selector("#xa-fields-panel tr[data-field='revenue'] select[data-saved]")
    shoot(page, "admin_field_security")

    items = sam("GET", "/data/crm.account")["items"]
    assert [r["name"] for r in items] == ["Sam's"]
    assert "revenue" not in items[0]
    roles = {r["name"]: r for r in live_server.api("GET", "/admin/roles")["items"]}
    grant = roles["Sales"]["entities"]["crm.account"]
    assert grant["scope"] == "own"
    assert grant["fields"] == {"revenue": {"read": False, "write": False}}


def test_a_new_role_is_added_from_the_page(logged_in, live_server):
    page = logged_in
    live_server.apply(ACCOUNT)
    page.goto("/admin/permissions")
    page.fill("input[name=role-name]", "Auditors")
    page.click("#xa-new-role button[type=submit]")
    cell = _cell(page, "Auditors", "crm.account")
    cell.wait_for()
    cell.locator("input[name=export]").check()
    page.wait_for_selector(
        "#xa-matrix td[data-role='Auditors'][data-entity='crm.account'][data-saved]"
    )
    roles = {r["name"]: r for r in live_server.api("GET", "/admin/roles")["items"]}
    assert roles["Auditors"]["entities"]["crm.account"]["actions"] == ["export"]


ADMIN_PAGES = (
    "/admin/entities",
    "/admin/entities/crm.account",
    "/admin/workflows",
    "/admin/permissions",
    "/admin/plugins",
    "/admin/audit",
    "/admin/jobs",
)


def test_the_admin_pages_and_their_api_are_403_for_everyone_else(page, live_server):
    allow_console_errors(page, "status of 403")
    live_server.apply(ACCOUNT)
    make_user(live_server, "sam", "sam-password-1", role="Sales", grants={"crm.account": ["read"]})
    login(page, "sam", "sam-password-1")
    for path in ADMIN_PAGES:
        res = page.goto(path)
        assert res.status == 403, path
        assert page.locator("#xa-root").count() == 0
    sam = _as(live_server, "sam", "sam-password-1")
    for path in ("/admin/roles", "/admin/audit", "/admin/plugins", "/admin/jobs"):
        with pytest.raises(ApiError) as refused:
            sam("GET", path)
        assert refused.value.status == 403, path


def test_visitors_are_sent_to_the_login_page(page):
    page.goto("/admin/permissions")
    assert "/login" in page.url
