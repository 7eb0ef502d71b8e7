"""Option sets and rule sets in the admin UI: listed, created and changed through their
pages, with the server's problems shown at the inputs they concern."""

from __future__ import annotations

import pytest
from admin_fixtures import shoot
from browser_kit import ApiError, allow_console_errors
from playwright.sync_api import expect

ORDER = {
    "x-xrm": {"name": "shop.order", "titleField": "name"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "quantity": {"type": "integer"},
        "price": {"type": "number"},
        "total": {"type": "number"},
        "note": {"type": "string"},
        "priority": {"type": "string", "x-xrm": {"type": "choice", "optionSet": "shop.priority"}},
    },
}
PRIORITY = {
    "name": "shop.priority",
    "label": "Priority",
    "options": [{"value": "low"}, {"value": "high", "label": "High"}],
}


def test_an_option_set_is_created_with_its_errors_shown_at_the_option(logged_in, live_server):
    page = logged_in
    allow_console_errors(page, "status of 422")
    page.goto("/admin/option-sets")
    expect(page.locator("#xa-option-sets tbody")).to_contain_text("No option set yet")
    page.click("#xa-new-option-set")
    page.fill("input[name=os-name]", "crm.industry")
    page.fill("input[name=os-label]", "Industry")
    for value in ("retail", "retail"):
        page.click("button[name=add-option]")
        page.locator("input[name=opt-value]").last.fill(value)
    page.locator("input[name=opt-label]").first.fill("Retail")
    page.locator("input[name=opt-color]").first.fill("#3b82f6")
    page.click("#xa-review")
    second = page.locator(".xa-item[data-index='1'] .has-error")
    expect(second).to_contain_text("listed twice")
    expect(page.locator("#xa-alerts .alert-danger")).to_be_visible()

    page.locator("input[name=opt-value]").last.fill("banking")
    page.click("#xa-review")
    expect(page.locator("#xa-plan")).to_contain_text("crm.industry")
    page.click("#xa-apply")
    page.wait_for_url("**/admin/option-sets/crm.industry?saved=1")
    expect(page.locator("input[name=opt-value]")).to_have_count(2)
    stored = live_server.api("GET", "/meta/option-sets/crm.industry")
    assert stored["options"] == [
        {"value": "retail", "label": "Retail", "color": "#3b82f6"},
        {"value": "banking"},
    ]
    assert stored["usedBy"] == []
    page.goto("/admin/option-sets")
    expect(page.locator("#xa-option-sets tr[data-option-set='crm.industry']")).to_contain_text(
        "Retail"
    )


def test_removing_a_value_in_use_replans_the_fields_with_a_confirmation(logged_in, live_server):
    page = logged_in
    live_server.apply(PRIORITY, ORDER)
    live_server.api("POST", "/data/shop.order", {"name": "A", "priority": "low"})
    page.goto("/admin/option-sets/shop.priority")
    expect(page.locator("#xa-os-used")).to_contain_text("shop.order.priority")
    page.locator(".xa-item[data-index='0'] button[name=remove-option]").click()
    page.click("#xa-review")
    plan = page.locator("#xa-plan")
    expect(plan.locator("[data-risk=checked]").first).to_be_visible()
    expect(plan).to_contain_text("1 row(s) would not fit")
    plan.locator("select[name=fallback]").select_option("null")
    plan.locator("input[name=confirm-plan]").check()
    shoot(page, "admin_option_set")
    plan.locator("#xa-apply").click()
    expect(page.locator("#xa-alerts .alert-success")).to_contain_text("Saved")
    assert [
        o["value"] for o in live_server.api("GET", "/meta/option-sets/shop.priority")["options"]
    ] == ["high"]
    assert live_server.api("GET", "/data/shop.order")["items"][0]["priority"] is None


def test_an_option_set_in_use_is_not_deleted_and_an_unused_one_is(logged_in, live_server):
    page = logged_in
    allow_console_errors(page, "status of 409")
    live_server.apply(PRIORITY, ORDER, {"name": "shop.size", "options": [{"value": "s"}]})
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/admin/option-sets/shop.priority")
    expect(page.locator("#xa-os-used")).to_contain_text("shop.order.priority")
    page.click("#xa-os-delete")
    refusal = page.locator("#xa-alerts .alert-danger")
    expect(refusal).to_contain_text("used by shop.order.priority")
    assert live_server.api("GET", "/meta/option-sets/shop.priority")["name"] == "shop.priority"

    page.goto("/admin/option-sets/shop.size")
    page.click("#xa-os-delete")
    page.wait_for_url("**/admin/option-sets?deleted=shop.size")
    expect(page.locator("#xa-alerts .alert-success")).to_contain_text("shop.size deleted")
    expect(page.locator("#xa-option-sets tr[data-option-set='shop.size']")).to_have_count(0)
    expect(page.locator("#xa-option-sets tr[data-option-set='shop.priority']")).to_have_count(1)


def test_a_rule_set_is_designed_with_live_errors_and_enforced_once_saved(logged_in, live_server):
    page = logged_in
    allow_console_errors(page, "status of 422")
    live_server.apply(PRIORITY, ORDER)
    page.goto("/admin/rules")
    page.click("#xa-new-rules")
    page.fill("input[name=rs-name]", "shop.order_rules")
    page.select_option("select[name=rs-entity]", "shop.order")

    validations = page.locator("[data-section=validations]")
    validations.locator("button[name=add-validation-rule]").click()
    validations.locator("input[name=val-name]").fill("positive")
    validations.locator("select[name=val-field]").select_option("quantity")
    validations.locator("input[name=val-message]").fill("Order at least one")
    validations.locator("textarea[name=val-expression]").fill("record.quantity > 'one'")
    expect(validations.locator(".has-error .xa-finding")).to_be_visible()
    expect(page.locator("#xa-rs-status")).to_contain_text("error")
    validations.locator("textarea[name=val-expression]").fill("record.quantity > 0")

    computed = page.locator("[data-section=computed]")
    computed.locator("button[name=add-computed-field]").click()
    computed.locator("select[name=comp-field]").select_option("total")
    computed.locator("textarea[name=comp-expression]").fill(
        "double(record.quantity) * record.price"
    )

    autos = page.locator("[data-section=automations]")
    autos.locator("button[name=add-automation]").click()
    autos.locator("input[name=auto-name]").fill("stamp")
    autos.locator("select[name=auto-on]").select_option("update")
    autos.locator("select[name=auto-fields]").select_option("quantity")
    action = autos.locator("[data-editor=actions] .xa-item").first
    action.locator("button[name=add-pair]").click()
    action.locator("select[name=pair-key]").select_option("note")
    action.locator("input[name=pair-value]").fill("'changed'")
    expect(page.locator("#xa-rs-status")).to_have_text("no errors")
    shoot(page, "admin_rule_set")
    page.click("#xa-rs-save")
    page.wait_for_url("**/admin/rules/shop.order_rules?saved=*")
    expect(page.locator("input[name=val-name]")).to_have_value("positive")

    rec = live_server.api("POST", "/data/shop.order", {"name": "B", "quantity": 2, "price": 2.5})
    assert rec["total"] == 5.0
    rec = live_server.api("PATCH", f"/data/shop.order/{rec['id']}", {"quantity": 3})
    assert rec["note"] == "changed"
    with pytest.raises(ApiError) as refused:
        live_server.api("POST", "/data/shop.order", {"name": "C", "quantity": 0})
    assert refused.value.status == 422 and "Order at least one" in str(refused.value.body)
    page.goto("/admin/rules")
    expect(page.locator("#xa-rules tr[data-rules='shop.order_rules']")).to_contain_text("active")


PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def test_the_rule_option_set_history_and_permission_pages_show_markup_as_text(
    logged_in, live_server
):
    page = logged_in
    evil_set = {**PRIORITY, "label": PAYLOAD, "options": [{"value": "low", "label": PAYLOAD}]}
    evil_order = {
        **ORDER,
        "x-xrm": {**ORDER["x-xrm"], "labels": {"singular": PAYLOAD, "plural": PAYLOAD}},
    }
    live_server.apply(evil_set, evil_order)
    live_server.api("POST", "/data/shop.order", {"name": PAYLOAD, "note": PAYLOAD})
    rules = {
        "name": "shop.evil_rules",
        "label": PAYLOAD,
        "entity": "shop.order",
        "validations": [{"name": "named", "expression": "record.name != ''", "message": PAYLOAD}],
    }
    live_server.api("PUT", "/meta/rules/shop.evil_rules", rules)
    live_server.api("POST", "/admin/roles", {"name": "clerk"})
    # (the entity designer, workflow designer and audit log have their own markup tests)
    pages = {
        "/admin/entities/shop.order/history": ".xa-revision",
        "/admin/rules": "#xa-rules tr[data-rules='shop.evil_rules']",
        "/admin/rules/shop.evil_rules": "input[name=val-message]",
        "/admin/option-sets": "#xa-option-sets tr[data-option-set='shop.priority']",
        "/admin/option-sets/shop.priority": "input[name=opt-label]",
        "/admin/permissions": "#xa-matrix tr[data-entity='shop.order']",
    }
    for path, ready in pages.items():
        page.goto(path)
        expect(page.locator(ready).first).to_be_visible()
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("#xa-root img[src=x], #xa-root script").count() == 0, path
    page.goto("/admin/option-sets")
    expect(page.locator("#xa-option-sets tr[data-option-set='shop.priority']")).to_contain_text(
        PAYLOAD
    )
    page.goto("/admin/rules/shop.evil_rules")
    expect(page.locator("input[name=val-message]")).to_have_value(PAYLOAD)
    expect(page.locator("input[name=rs-label]")).to_have_value(PAYLOAD)
