"""Workflows in the UI: the record page's stage bar and transition buttons, the kanban board."""

from __future__ import annotations

from browser_kit import allow_console_errors, login
from enduser_model import SALES_PASSWORD, add_sales_user, install_crm, lead
from playwright.sync_api import expect


def test_the_record_page_fires_a_transition_and_says_why_another_is_not_available(
    page, live_server
):
    install_crm(live_server)
    add_sales_user(live_server)
    acct = live_server.api("POST", "/data/crm.account", {"name": "Globex"})
    rec = lead(live_server, company="Initech", score=20, account=acct["id"])
    login(page, "sally", SALES_PASSWORD)
    page.goto(f"/ui/crm.lead/{rec['id']}")

    expect(page.locator(".xrm-stage.current")).to_have_text("New")
    page.click("[data-transition=contact] button")
    expect(page.locator(".xrm-stage.current")).to_have_text("Contacted")
    assert page.locator(".xrm-stage.done").all_inner_texts() == ["New"]

    qualify = page.locator("[data-transition=qualify]")
    expect(qualify.locator("button")).to_be_disabled()
    expect(qualify.locator(".xrm-reason")).to_contain_text("score of 50 or more")
    assert page.locator("[data-transition=give_up] button").is_enabled()

    # the timeline shows the audit trail of the change; the account lists the lead
    expect(page.locator("#xrm-timeline")).to_contain_text("New")
    expect(page.locator("#xrm-timeline")).to_contain_text("Contacted")
    assert live_server.api("GET", f"/data/crm.lead/{rec['id']}")["status"] == "contacted"
    page.goto(f"/ui/crm.account/{acct['id']}")
    expect(page.locator("[data-related='crm.lead.account']")).to_contain_text("Initech")


def test_dragging_a_card_fires_the_transition_or_shows_the_guard_and_goes_back(page, live_server):
    install_crm(live_server)
    weak = lead(live_server, company="Weak", score=10)
    strong = lead(live_server, company="Strong", score=90)
    for rec in (weak, strong):
        live_server.api("POST", f"/data/crm.lead/{rec['id']}/transitions/contact", {})
    allow_console_errors(page, "status of 4")
    login(page)
    page.goto("/ui/crm.lead/board")
    contacted = page.locator(".xrm-lane[data-lane=contacted]")
    qualified = page.locator(".xrm-lane[data-lane=qualified]")
    expect(contacted.locator(".xrm-card")).to_have_count(2)

    contacted.locator(f".xrm-card[data-id='{weak['id']}']").drag_to(qualified)
    expect(page.locator("#xrm-alert")).to_contain_text("score of 50 or more")
    expect(contacted.locator(f".xrm-card[data-id='{weak['id']}']")).to_have_count(1)
    expect(qualified.locator(".xrm-card")).to_have_count(0)

    contacted.locator(f".xrm-card[data-id='{strong['id']}']").drag_to(qualified)
    expect(qualified.locator(f".xrm-card[data-id='{strong['id']}']")).to_have_count(1)
    expect(qualified.locator(".badge")).to_have_text("1")
    assert live_server.api("GET", f"/data/crm.lead/{strong['id']}")["status"] == "qualified"
    assert live_server.api("GET", f"/data/crm.lead/{weak['id']}")["status"] == "contacted"


def test_a_board_by_a_choice_field_patches_the_field(page, live_server):
    install_crm(live_server)
    rec = lead(live_server, company="Initech", source="web")
    login(page)
    page.goto("/ui/crm.lead/board?group=source")
    web = page.locator(".xrm-lane[data-lane=web]")
    event = page.locator(".xrm-lane[data-lane=event]")
    expect(web.locator(".xrm-card")).to_have_count(1)
    web.locator(".xrm-card").drag_to(event)
    expect(page.locator(".xrm-toast")).to_contain_text("Moved to event")
    expect(event.locator(f".xrm-card[data-id='{rec['id']}']")).to_have_count(1)
    assert live_server.api("GET", f"/data/crm.lead/{rec['id']}")["source"] == "event"


def test_a_bulk_transition_moves_every_selected_record(page, live_server):
    install_crm(live_server)
    for company in ("Acme", "Hooli", "Umbrella"):
        lead(live_server, company=company, score=10)
    login(page)
    page.goto("/ui/crm.lead/")
    for company in ("Acme", "Umbrella"):
        page.check(f"#xrm-table tr:has-text('{company}') .xrm-row-select")
    bulk = page.locator("#xrm-bulk")
    expect(bulk).to_contain_text("2 selected")
    choice = bulk.locator("#xrm-bulk-transition")
    expect(choice.locator("option[value=contact]")).to_have_count(1)
    choice.select_option("contact")
    expect(bulk).to_be_hidden()  # done: the selection is cleared and the list reloaded
    states = {
        r["company"]: r["status"]
        for r in live_server.api("GET", "/data/crm.lead?select=company,status")["items"]
    }
    assert states == {"Acme": "contacted", "Hooli": "new", "Umbrella": "contacted"}


ORDER = {
    "x-xrm": {"name": "shop.order", "titleField": "name", "listColumns": ["name", "status"]},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "confirmed", "shipped"]},
        "payment": {"type": "string", "enum": ["unpaid", "authorised", "paid"]},
    },
}


def _flow(name, label, field, states, transitions):
    return {
        "$schema": "urn:xrm:schema:workflow",
        "name": name,
        "label": label,
        "entity": "shop.order",
        "stateField": field,
        "states": {
            s: {
                "label": s.capitalize(),
                **({"initial": True} if i == 0 else {}),
                **({"final": True} if i == len(states) - 1 else {}),
            }
            for i, s in enumerate(states)
        },
        "transitions": [{"name": n, "from": a, "to": b} for n, a, b in transitions],
    }


def install_orders(server):
    """An order with two workflows; both have a transition named ``confirm``."""
    server.apply(ORDER)
    server.api(
        "PUT",
        "/meta/workflows/shop.fulfilment",
        _flow("shop.fulfilment", "Fulfilment", "status", ["draft", "confirmed", "shipped"],
              [("confirm", "draft", "confirmed"), ("ship", "confirmed", "shipped")]),
    )  # fmt: skip
    server.api(
        "PUT",
        "/meta/workflows/shop.payment",
        _flow("shop.payment", "Payment", "payment", ["unpaid", "authorised", "paid"],
              [("confirm", "unpaid", "authorised"), ("capture", "authorised", "paid")]),
    )  # fmt: skip
    return server.api("POST", "/data/shop.order", {"name": "Order 1"})


def test_the_record_page_shows_every_workflows_state_and_transitions(page, live_server):
    order = install_orders(live_server)
    login(page)
    page.goto(f"/ui/shop.order/{order['id']}")
    fulfilment = page.locator(".xrm-workflow[data-workflow='shop.fulfilment']")
    payment = page.locator(".xrm-workflow[data-workflow='shop.payment']")
    expect(fulfilment.locator(".xrm-workflow-label")).to_have_text("Fulfilment: Draft")
    expect(payment.locator(".xrm-stage.current")).to_have_text("Unpaid")
    expect(fulfilment.locator("[data-transition=confirm] button")).to_be_enabled()

    payment.locator("[data-transition=confirm] button").click()  # the payment's confirm
    expect(payment.locator(".xrm-stage.current")).to_have_text("Authorised")
    expect(payment.locator("[data-transition=capture] button")).to_be_enabled()
    expect(fulfilment.locator(".xrm-stage.current")).to_have_text("Draft")
    stored = live_server.api("GET", f"/data/shop.order/{order['id']}")
    assert (stored["status"], stored["payment"]) == ("draft", "authorised")


def test_the_board_groups_by_the_chosen_workflow_and_fires_its_transition(page, live_server):
    order = install_orders(live_server)
    login(page)
    page.goto("/ui/shop.order/board")
    group = page.locator("#xrm-board-group option")
    expect(group).to_have_text(["Status (Fulfilment workflow)", "Payment (Payment workflow)"])
    expect(page.locator(".xrm-lane[data-lane=draft] .xrm-card")).to_have_count(1)

    page.select_option("#xrm-board-group", "payment")
    unpaid = page.locator(".xrm-lane[data-lane=unpaid]")
    authorised = page.locator(".xrm-lane[data-lane=authorised]")
    expect(unpaid.locator(".xrm-card")).to_have_count(1)
    unpaid.locator(".xrm-card").drag_to(authorised)
    expect(page.locator(".xrm-toast")).to_contain_text("Moved to Authorised")  # after the server
    expect(authorised.locator(f".xrm-card[data-id='{order['id']}']")).to_have_count(1)
    stored = live_server.api("GET", f"/data/shop.order/{order['id']}")
    assert (stored["status"], stored["payment"]) == ("draft", "authorised")
