"""An end user works with records through the generated UI, as a person would."""

from __future__ import annotations

import re

from browser_kit import allow_console_errors, login
from enduser_model import SALES_PASSWORD, add_sales_user, install_crm, lead
from playwright.sync_api import expect


def rows(page) -> list[str]:
    page.wait_for_selector("#xrm-table tbody tr")
    return page.locator("#xrm-table tbody tr td:nth-child(2)").all_inner_texts()


def test_creating_a_record_shows_the_servers_field_error_until_it_is_fixed(page, live_server):
    install_crm(live_server)
    live_server.api("POST", "/data/crm.account", {"name": "Globex"})
    add_sales_user(live_server)
    allow_console_errors(page, "status of 422")
    login(page, "sally", SALES_PASSWORD)
    page.click("[data-menu-group=crm] > a")  # open the menu group
    page.click("[data-menu-entity='crm.lead']")
    page.click("#xrm-new")
    page.fill("#f-company", "Initech")
    page.fill("#f-score", "150")
    page.fill("#f-budget", "12000")
    page.select_option("select[name=budget_currency]", "USD")
    page.fill("#f-follow_up_on", "2026-12-24")
    page.fill("[data-lookup=account] input", "Glo")
    page.click(".xrm-lookup-menu a:has-text('Globex')")
    page.click("#xrm-save")

    expect(page.locator("[data-error-for=score]")).to_have_text(re.compile(r"Score .*100"))
    assert page.locator("[data-field=score]").get_attribute("class").count("has-error") == 1
    assert page.input_value("#f-company") == "Initech"  # nothing the user typed is lost

    page.fill("#f-score", "80")
    page.click("#xrm-save")
    page.wait_for_url(re.compile(r"/ui/crm\.lead/\d+$"))
    assert page.inner_text("#xrm-title") == "Initech"
    assert page.inner_text("[data-field=account]") == "Globex"
    assert "12,000.00 USD" in page.inner_text("[data-field=budget]")
    record = live_server.api("GET", "/data/crm.lead?company=eq.Initech")["items"][0]
    assert record["score"] == 80
    assert record["follow_up_on"] == "2026-12-24"
    assert record["budget"] == {"amount": "12000.00", "currency": "USD"}


def test_the_list_filters_and_sorts_by_several_columns(page, live_server):
    install_crm(live_server, workflow=False)
    for company, score, contact in [
        ("Umbrella", 90, "Alice"),
        ("Acme", 40, "Bob"),
        ("Hooli", 70, "Carol"),
        ("Vandelay", 70, "Abe"),
        ("Stark", 10, "Dan"),
    ]:
        lead(live_server, company=company, score=score, contact_name=contact)
    login(page)
    page.goto("/ui/crm.lead/")
    expect(page.locator("#xrm-count")).to_have_text("5 leads")  # after the list has loaded

    page.click("#xrm-add-filter")
    page.select_option(".xrm-filter-field", "score")
    page.select_option(".xrm-filter-op", "gte")
    page.fill(".xrm-filter input[placeholder=value]", "50")
    page.locator(".xrm-filter input[placeholder=value]").dispatch_event("change")
    page.wait_for_function("document.querySelector('#xrm-count').textContent === '3 leads'")
    assert sorted(rows(page)) == ["Hooli", "Umbrella", "Vandelay"]

    page.click("th[data-field=score]")  # score ascending
    page.click("th[data-field=score]")  # score descending
    page.click("th[data-field=company]", modifiers=["Shift"])  # then company
    page.wait_for_function("document.querySelector('th[data-field=company] .xrm-sort') !== null")
    assert rows(page) == ["Umbrella", "Hooli", "Vandelay"]
    page.click("th[data-field=company]", modifiers=["Shift"])  # company descending
    page.wait_for_function(
        "document.querySelector('th[data-field=company] .xrm-sort').textContent.startsWith('▼')"
    )
    assert rows(page) == ["Umbrella", "Vandelay", "Hooli"]

    page.fill("#xrm-search", "hoo")
    page.wait_for_function("document.querySelector('#xrm-count').textContent === '1 leads'")
    assert rows(page) == ["Hooli"]


def test_keyset_paging_walks_forward_and_back(page, live_server):
    install_crm(live_server, workflow=False)
    live_server.api(
        "POST",
        "/data/crm.lead/bulk",
        {"records": [{"company": f"Company {i:02d}"} for i in range(30)]},
    )
    login(page)
    page.goto("/ui/crm.lead/")
    page.click("th[data-field=company]")
    page.wait_for_selector("th[data-field=company] .xrm-sort")
    first = rows(page)
    assert len(first) == 25 and first[0] == "Company 00"
    page.click("#xrm-next")
    page.wait_for_function("document.querySelectorAll('#xrm-table tbody tr').length === 5")
    assert rows(page)[0] == "Company 25"
    assert page.is_disabled("#xrm-next")
    page.click("#xrm-prev")
    page.wait_for_function("document.querySelectorAll('#xrm-table tbody tr').length === 25")
    assert rows(page) == first


def test_the_column_chooser_and_a_saved_view_keep_columns_and_filters(page, live_server):
    install_crm(live_server, workflow=False)
    lead(live_server, company="Hooli", score=70, contact_name="Carol")
    lead(live_server, company="Acme", score=20, contact_name="Bob")
    login(page)
    page.goto("/ui/crm.lead/")
    page.click("#xrm-columns-toggle")
    page.check("#xrm-columns input[value=hot]")
    page.uncheck("#xrm-columns input[value=contact_name]")
    page.keyboard.press("Escape")
    page.wait_for_selector("th[data-field=hot]")
    expect(page.locator("th[data-field=contact_name]")).to_have_count(0)
    page.fill("#xrm-search", "hoo")
    page.wait_for_function("document.querySelector('#xrm-count').textContent === '1 leads'")
    page.once("dialog", lambda d: d.accept("Hot prospects") if d.type == "prompt" else d.dismiss())
    page.on("dialog", lambda d: d.dismiss())  # do not share it
    page.click("#xrm-save-view")
    page.wait_for_selector("#xrm-view option:has-text('Hot prospects')", state="attached")

    views = live_server.api("GET", "/views?entity=crm.lead")["items"]
    assert [v["label"] for v in views] == ["Hot prospects"]
    assert "hot" in views[0]["columns"] and "contact_name" not in views[0]["columns"]

    page.goto("/ui/crm.lead/")
    expect(page.locator("th[data-field=contact_name]")).to_have_count(1)
    page.select_option("#xrm-view", label="Hot prospects")
    page.wait_for_function("document.querySelector('#xrm-count').textContent === '1 leads'")
    assert page.input_value("#xrm-search") == "hoo"
    expect(page.locator("th[data-field=hot]")).to_have_count(1)


def test_editing_a_record_changed_meanwhile_explains_the_conflict_and_keeps_the_input(
    page, live_server
):
    install_crm(live_server, workflow=False)
    rec = lead(live_server, company="Acme", contact_name="Bob")
    allow_console_errors(page, "status of 412")
    login(page)
    page.goto(f"/ui/crm.lead/{rec['id']}/edit")
    page.wait_for_function("document.querySelector('#f-contact_name').value === 'Bob'")
    page.fill("#f-contact_name", "Roberta")
    live_server.api("PATCH", f"/data/crm.lead/{rec['id']}", {"company": "Acme Corp"})
    page.click("#xrm-save")

    conflict = page.locator("#xrm-conflict")
    expect(conflict).to_contain_text("Someone else saved")
    assert "Acme Corp" in conflict.inner_text()  # what they changed
    assert page.input_value("#f-contact_name") == "Roberta"  # what I typed is kept

    page.click("#xrm-overwrite")
    page.wait_for_url(re.compile(rf"/ui/crm\.lead/{rec['id']}$"))
    saved = live_server.api("GET", f"/data/crm.lead/{rec['id']}")
    assert saved["contact_name"] == "Roberta"
    assert saved["company"] == "Acme Corp"  # their change is not undone


def test_form_rules_show_and_require_a_field_live(page, live_server):
    install_crm(live_server)
    allow_console_errors(page, "status of 422")
    login(page)
    page.goto("/ui/crm.lead/new")
    referrer = page.locator("[data-field=referrer]")
    page.wait_for_function(
        "document.querySelector('[data-field=referrer]').classList.contains('hidden')"
    )
    page.fill("#f-company", "Initech")
    page.select_option("#f-source", "referral")
    page.wait_for_function(
        "!document.querySelector('[data-field=referrer]').classList.contains('hidden')"
    )
    assert referrer.locator(".xrm-required").inner_text().strip() == "*"
    page.click("#xrm-save")
    expect(page.locator("[data-error-for=referrer]")).to_contain_text("required")
    page.fill("#f-referrer", "Peter")
    page.click("#xrm-save")
    page.wait_for_url(re.compile(r"/ui/crm\.lead/\d+$"))


def test_bulk_delete_and_the_export_of_the_current_view(page, live_server):
    install_crm(live_server, workflow=False)
    for company, score in [("Acme", 10), ("Hooli", 70), ("Umbrella", 90)]:
        lead(live_server, company=company, score=score)
    login(page)
    page.goto("/ui/crm.lead/")
    page.fill("#xrm-search", "o")  # only Hooli has an "o"
    page.wait_for_function("document.querySelector('#xrm-count').textContent === '1 leads'")
    page.click("#xrm-export")
    page.click("#xrm-export-csv")
    href = page.get_attribute("#xrm-export-csv", "href")
    csv = page.request.get(href)
    assert csv.status == 200
    body = csv.text()
    assert "Hooli" in body and "Acme" not in body and "Umbrella" not in body

    page.fill("#xrm-search", "")
    page.wait_for_function("document.querySelector('#xrm-count').textContent === '3 leads'")
    page.check("#xrm-table tr:has-text('Acme') .xrm-row-select")
    page.check("#xrm-table tr:has-text('Umbrella') .xrm-row-select")
    expect(page.locator("#xrm-bulk")).to_contain_text("2 selected")
    page.once("dialog", lambda d: d.accept())
    page.click("#xrm-bulk-delete")
    page.wait_for_function("document.querySelector('#xrm-count').textContent === '1 leads'")
    assert rows(page) == ["Hooli"]
    left = live_server.api("GET", "/data/crm.lead?select=company")["items"]
    assert [r["company"] for r in left] == ["Hooli"]


def test_a_system_maintained_field_is_shown_read_only_in_the_form(page, live_server):
    supplier = {
        "x-xrm": {"name": "vrm.supplier", "titleField": "name"},
        "properties": {
            "name": {"type": "string"},
            "last_score": {
                "x-xrm": {"type": "decimal", "scale": 2, "maintainedBy": "the latest evaluation"}
            },
        },
    }
    live_server.apply(supplier)
    made = live_server.api("POST", "/data/vrm.supplier", {"name": "Acme"})
    login(page)
    page.goto(f"/ui/vrm.supplier/{made['id']}/edit")
    expect(page.locator("#f-name")).to_be_enabled()
    expect(page.locator("#f-last_score")).to_be_disabled()
    page.fill("#f-name", "Acme Bolts")
    page.click("#xrm-save")  # the read-only field is not sent, so the save goes through
    page.wait_for_url(re.compile(r"/ui/vrm\.supplier/\d+$"))
    assert live_server.api("GET", f"/data/vrm.supplier/{made['id']}")["name"] == "Acme Bolts"
