"""The entity designer, driven as an administrator would: create an entity with several field
types and a relation, review the plan, apply it and use the entity at once; rename a field and
keep its data; see a definition error at its field; stored markup stays text."""

from __future__ import annotations

import pytest
from admin_fixtures import add_field, review_plan, shoot
from browser_kit import ApiError, allow_console_errors

ACCOUNT = {
    "x-xrm": {"name": "crm.account", "labels": {"singular": "Account", "plural": "Accounts"}},
    "required": ["name"],
    "properties": {"name": {"type": "string", "maxLength": 200}},
}


def test_an_administrator_creates_an_entity_with_a_relation_and_uses_it_at_once(
    logged_in, live_server
):
    page = logged_in
    live_server.apply(ACCOUNT)
    account = live_server.api("POST", "/data/crm.account", {"name": "ACME"})
    page.goto("/admin/entities")
    page.click("#xa-new-entity")
    page.click("a[href='#xa-tab-options']")
    page.fill("input[name=entity-name]", "sales.project")
    page.fill("input[name=label-singular]", "Project")
    page.fill("input[name=label-plural]", "Projects")
    page.click("a[href='#xa-tab-fields']")

    add_field(page, "title", "text", label="Title", required=True, options={"maxLength": "120"})
    add_field(
        page,
        "budget",
        "decimal",
        label="Budget",
        options={"x-xrm/precision": "12", "x-xrm/scale": "2", "minimum": "0"},
    )
    add_field(page, "stage", "choice", label="Stage", choices=["draft", "running", "done"])
    add_field(page, "starts_on", "date", label="Starts on")
    add_field(page, "active", "boolean", label="Active", default="true")
    add_field(
        page,
        "account",
        "reference",
        label="Account",
        options={"x-xrm/target": "crm.account", "x-xrm/onDelete": "setNull"},
    )
    assert page.locator("#xa-fields tbody tr").count() == 6
    page.click("#xa-fields tr[data-field='budget'] button[name=edit-field]")
    assert page.locator(".xa-field-editor [data-key='x-xrm/precision']").input_value() == "12"
    shoot(page, "admin_field_editor")
    page.click(".xa-field-editor button:has-text('Cancel')")
    page.click("a[href='#xa-tab-relations']")
    assert "crm.account" in page.inner_text("#xa-relations")
    page.click("a[href='#xa-tab-fields']")

    review_plan(page)
    plan = page.locator("#xa-plan")
    assert plan.locator("tr[data-op='create_entity']").count() == 1
    assert plan.locator("[data-risk='safe']").count() >= 1
    shoot(page, "admin_entity_designer")
    page.click("#xa-apply")
    page.wait_for_url("**/admin/entities/sales.project?applied=*")
    page.wait_for_selector("#xa-fields tbody tr[data-field='account']")
    assert "is live" in page.inner_text("#xa-alerts")

    created = live_server.api(
        "POST",
        "/data/sales.project",
        {"title": "Roll-out", "budget": "1200.50", "stage": "draft", "account": account["id"]},
    )
    assert created["budget"] == "1200.50"
    assert created["active"] is True
    assert created["account"] == account["id"]
    with pytest.raises(ApiError) as refused:
        live_server.api("POST", "/data/sales.project", {"title": "x" * 121})
    assert refused.value.status == 422


def test_renaming_a_field_keeps_its_data(logged_in, live_server):
    page = logged_in
    live_server.apply(
        {
            "x-xrm": {"name": "sales.lead"},
            "properties": {"company": {"type": "string"}, "phone": {"type": "string"}},
        }
    )
    lead = live_server.api("POST", "/data/sales.lead", {"company": "ACME", "phone": "+41 44 1"})
    page.goto("/admin/entities/sales.lead")
    page.click("#xa-fields tr[data-field='phone'] button[name=edit-field]")
    page.fill("input[name=field-name]", "mobile")
    page.click("button[name=save-field]")
    assert "was phone" in page.inner_text("#xa-fields tr[data-field='mobile']")

    review_plan(page)
    assert page.locator("#xa-plan tr[data-op='rename_field']").count() == 1
    assert page.locator("#xa-plan tr[data-op='archive_field']").count() == 0
    page.click("#xa-apply")
    page.wait_for_selector("#xa-alerts .alert-success")

    stored = live_server.api("GET", f"/data/sales.lead/{lead['id']}")
    assert stored["mobile"] == "+41 44 1"
    assert "phone" not in stored


def test_a_destructive_change_needs_confirmation_and_shows_the_rows_it_affects(
    logged_in, live_server
):
    page = logged_in
    live_server.apply(
        {
            "x-xrm": {"name": "sales.deal"},
            "properties": {"name": {"type": "string"}, "code": {"type": "string"}},
        }
    )
    for code in ("17", "A-18"):
        live_server.api("POST", "/data/sales.deal", {"name": "d", "code": code})
    page.goto("/admin/entities/sales.deal")
    page.click("#xa-fields tr[data-field='code'] button[name=edit-field]")
    page.select_option("select[name=field-type]", "integer")
    page.click("button[name=save-field]")
    page.click("#xa-fields tr[data-field='name'] button[name=remove-field]")

    review_plan(page)
    plan = page.locator("#xa-plan")
    assert plan.locator("tr[data-op='convert_field'] [data-risk='checked']").count() == 1
    assert plan.locator("tr[data-op='archive_field'] [data-risk='destructive']").count() == 1
    check = plan.locator("tr[data-op='convert_field'] .xa-check")
    assert check.get_attribute("data-failing") == "1"
    assert "A-18" in check.inner_text()
    shoot(page, "admin_entity_plan")

    page.click("#xa-apply")  # not confirmed yet
    assert "confirmation" in page.inner_text("#xa-alerts")
    page.check("input[name=confirm-plan]")
    page.select_option("select[name=fallback]", "null")
    page.click("#xa-apply")
    page.wait_for_selector("#xa-alerts .alert-success")
    rows = live_server.api("GET", "/data/sales.deal?order=id")["items"]
    assert [r["code"] for r in rows] == [17, None]
    assert all("name" not in r for r in rows)


def test_definition_errors_from_the_api_are_shown_at_the_field(logged_in, live_server):
    page = logged_in
    allow_console_errors(page, "status of 422")
    page.goto("/admin/entities/new")
    page.click("a[href='#xa-tab-options']")
    page.fill("input[name=entity-name]", "sales.bad")
    page.click("a[href='#xa-tab-fields']")
    add_field(page, "code", "autonumber", label="Code", options={"x-xrm/format": "NO-COUNTER"})
    page.click("#xa-review")
    row = page.locator("#xa-fields tr[data-field='code']")
    row.locator(".xa-problem").first.wait_for()
    assert "SEQ" in row.inner_text()
    assert page.locator("#xa-fields tr.danger").count() == 1
    page.click("#xa-fields tr[data-field='code'] button[name=edit-field]")
    assert page.locator(".xa-field-editor .has-error input[name='opt-format']").count() == 1


def test_stored_markup_in_a_label_is_shown_as_text(logged_in, live_server):
    page = logged_in
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    live_server.apply(
        {
            "x-xrm": {"name": "sales.evil", "labels": {"singular": payload, "plural": payload}},
            "properties": {"name": {"type": "string", "title": payload}},
        }
    )
    page.goto("/admin/entities")
    page.wait_for_selector("#xa-entities tr[data-entity='sales.evil']")
    assert payload in page.inner_text("#xa-entities tr[data-entity='sales.evil']")
    page.goto("/admin/entities/sales.evil")
    page.wait_for_selector("#xa-fields tr[data-field='name']")
    assert payload in page.inner_text("#xa-fields tr[data-field='name']")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#xa-fields img").count() == 0


def test_removing_an_entity_shows_the_destructive_plan_first(logged_in, live_server):
    page = logged_in
    live_server.apply({"x-xrm": {"name": "sales.old"}, "properties": {"x": {"type": "string"}}})
    page.goto("/admin/entities/sales.old")
    page.wait_for_selector("#xa-fields tr[data-field='x']")
    page.click("#xa-remove-entity")
    plan = page.locator("#xa-plan")
    plan.locator("tr[data-op='archive_entity'] [data-risk='destructive']").wait_for()
    page.check("input[name=confirm-plan]")
    page.click("#xa-apply")
    page.wait_for_url("**/admin/entities?removed=sales.old")
    assert "archived" in page.inner_text("#xa-alerts")
    names = [e["name"] for e in live_server.api("GET", "/meta/entities")["items"]]
    assert "sales.old" not in names
