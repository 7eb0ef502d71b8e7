"""What the UI shows a user without rights, and that stored values are never executed."""

from __future__ import annotations

from browser_kit import ApiError, allow_console_errors, login, make_user
from enduser_model import install_crm, lead
from playwright.sync_api import expect

PAYLOAD = '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">'


def test_a_user_without_rights_sees_no_menu_entry_no_data_and_gets_403(page, live_server):
    install_crm(live_server, workflow=False)
    lead(live_server, company="Secret deal")
    make_user(
        live_server, "nora", "nora-password-1", role="Accounts", grants={"crm.account": ["read"]}
    )
    allow_console_errors(page, "status of 403")
    login(page, "nora", "nora-password-1")
    page.goto("/")
    assert page.locator("[data-menu-entity='crm.account']").count() == 1
    assert page.locator("[data-menu-entity='crm.lead']").count() == 0
    assert "Leads" not in page.inner_text("#xrm-menu")

    for path in ("/ui/crm.lead/", "/ui/crm.lead/board", "/ui/crm.lead/new", "/ui/crm.lead/1"):
        res = page.goto(path)
        assert res.status == 403, path
        expect(page.locator(".xrm-error")).to_contain_text("may not read crm.lead")
        assert "Secret deal" not in page.content()
    res = page.request.get("/api/v1/data/crm.lead")
    assert res.status == 403
    token = live_server.token("nora", "nora-password-1")
    try:
        live_server.request("GET", "/api/v1/data/crm.lead/aggregate", token=token)
        raise AssertionError("the aggregate endpoint answered without the read right")
    except ApiError as exc:
        assert exc.status == 403


def test_an_unknown_entity_is_a_404_page(page, live_server):
    allow_console_errors(page, "status of 404")
    login(page)
    res = page.goto("/ui/no.such/")
    assert res.status == 404
    expect(page.locator(".xrm-error")).to_contain_text("no entity")


def test_a_stored_script_is_shown_as_text_and_never_runs(page, live_server):
    install_crm(live_server)
    acct = live_server.api("POST", "/data/crm.account", {"name": PAYLOAD[:80]})
    rec = lead(
        live_server, company=PAYLOAD, contact_name=PAYLOAD, notes=PAYLOAD, account=acct["id"]
    )
    live_server.api("POST", "/views", {"entity": "crm.lead", "label": PAYLOAD[:100], "query": ""})
    login(page)
    for path in (
        "/ui/crm.lead/",
        "/ui/crm.lead/board",
        f"/ui/crm.lead/{rec['id']}",
        f"/ui/crm.lead/{rec['id']}/edit",
        f"/ui/crm.account/{acct['id']}",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("body img[src=x]").count() == 0, path
    page.goto(f"/ui/crm.lead/{rec['id']}")
    expect(page.locator("#xrm-title")).to_have_text(PAYLOAD)
    expect(page.locator("[data-field=notes]")).to_have_text(PAYLOAD)
    page.goto("/ui/crm.lead/")
    expect(page.locator("#xrm-table tbody a.xrm-open")).to_have_text(PAYLOAD)
    assert page.evaluate("window.__xss") is None
