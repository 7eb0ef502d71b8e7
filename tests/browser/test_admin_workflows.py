"""The workflow designer, driven as an administrator would: states from the choice field,
transitions with roles, a guard whose syntax error is shown and fixed, the diagram, saving
(the workflow is then active through the API), and the verifier's warnings."""

from __future__ import annotations

from admin_fixtures import shoot
from browser_kit import allow_console_errors

DEAL = {
    "x-xrm": {"name": "sales.deal", "titleField": "name"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "amount": {"type": "integer"},
        "stage": {
            "type": "string",
            "x-xrm": {
                "type": "choice",
                "options": [
                    {"value": "draft", "label": "Draft", "color": "#9e9e9e"},
                    {"value": "quoted", "label": "Quoted", "color": "#1f77b4"},
                    {"value": "won", "label": "Won", "color": "#2ca02c"},
                    {"value": "lost", "label": "Lost", "color": "#d62728"},
                ],
            },
        },
    },
}


def _transition(page, i, name, to, *, from_=None, any_state=False, guard=None):
    page.click("#xa-wf-add-transition")
    card = page.locator(f"#xa-transitions .xa-transition[data-transition='{i}']")
    card.locator("input[name=tr-name]").fill(name)
    card.locator("input[name=tr-label]").fill(name.title())
    if any_state:
        card.locator("input[name=tr-from-any]").check()
        card = page.locator(f"#xa-transitions .xa-transition[data-transition='{i}']")
    elif from_:
        card.locator("select[name=tr-from]").select_option(from_)
    card.locator("select[name=tr-to]").select_option(to)
    if guard is not None:
        card.locator("textarea[name=tr-guard]").fill(guard)
    return card


def test_an_administrator_designs_a_workflow_with_a_guard_and_activates_it(logged_in, live_server):
    page = logged_in
    allow_console_errors(page, "status of 422")
    live_server.apply(DEAL)
    live_server.api("POST", "/admin/roles", {"name": "sales_rep"})
    page.goto("/admin/workflows")
    page.click("#xa-new-workflow")
    page.fill("input[name=wf-name]", "sales.deal_flow")
    page.fill("input[name=wf-label]", "Deal flow")
    page.select_option("select[name=wf-entity]", "sales.deal")
    page.select_option("select[name=wf-state-field]", "stage")
    page.click("button[name=states-from-options]")
    assert page.locator("#xa-states tr.xa-state-row").count() == 4
    for final in ("won", "lost"):
        page.check(f"#xa-states tr[data-state='{final}'] input[name=state-final]")

    page.click("a[href='#xa-wf-tab-transitions']")
    quote = _transition(page, 0, "quote", "quoted", from_="draft", guard="record.amount > ")
    quote.locator("select[name=tr-roles]").select_option("sales_rep")
    _transition(page, 1, "win", "won", from_="quoted")
    lose = _transition(page, 2, "lose", "lost", any_state=True)
    lose.locator("input[name=tr-requireComment]").check()
    lose.locator("input[name=tr-notByOwner]").check()

    # The verifier runs as you type: the syntax error is shown at the guard.
    guard_box = page.locator(".xa-transition[data-transition='0'] .form-group.has-error")
    guard_box.locator("textarea[name=tr-guard]").wait_for()
    assert "Syntax error" in guard_box.inner_text()
    assert "error" in page.inner_text("#xa-wf-status")
    page.click("#xa-wf-save")  # refused by the server with the same finding
    page.wait_for_selector("#xa-alerts .alert-danger")
    assert "not saved" in page.inner_text("#xa-alerts").lower()
    assert live_server.api("GET", "/meta/workflows")["items"] == []

    page.fill(".xa-transition[data-transition='0'] textarea[name=tr-guard]", "record.amount > 1000")
    page.wait_for_selector("#xa-wf-status.label-success")
    assert page.locator("#xa-wf-diagram svg g.xa-node").count() == 4
    assert page.locator("#xa-wf-diagram svg g.xa-edge").count() == 4  # lose from draft and quoted
    shoot(page, "admin_workflow_designer")
    page.click("#xa-wf-save")
    page.wait_for_url("**/admin/workflows/sales.deal_flow?saved=*")
    page.wait_for_selector("#xa-wf-diagram svg")

    stored = live_server.api("GET", "/meta/workflows/sales.deal_flow")["document"]
    quote_doc = stored["transitions"][0]
    assert quote_doc["guard"] == "record.amount > 1000"
    assert quote_doc["roles"] == ["sales_rep"]
    assert stored["transitions"][2]["from"] == "*"
    assert stored["transitions"][2]["notByOwner"] is True
    assert stored["states"]["draft"]["initial"] is True
    deal = live_server.api("POST", "/data/sales.deal", {"name": "Big", "amount": 10})
    assert deal["stage"] == "draft"
    options = live_server.api("GET", f"/data/sales.deal/{deal['id']}/transitions")
    quote_option = next(t for t in options["transitions"] if t["name"] == "quote")
    assert quote_option["available"] is False  # the guard holds the deal back


def test_a_type_error_in_a_guard_names_the_field(logged_in, live_server):
    page = logged_in
    live_server.apply(DEAL)
    page.goto("/admin/workflows/new?entity=sales.deal")
    page.fill("input[name=wf-name]", "sales.typo_flow")
    page.select_option("select[name=wf-state-field]", "stage")
    page.click("button[name=states-from-options]")
    page.check("#xa-states tr[data-state='won'] input[name=state-final]")
    page.click("a[href='#xa-wf-tab-transitions']")
    _transition(page, 0, "win", "won", from_="draft", guard="record.amout > 1")
    finding = page.locator("#xa-wf-findings li.error", has_text="amout")
    finding.wait_for()
    assert "did you mean 'amount'" in finding.inner_text()
    # Unreachable states are warnings: shown, but they do not block.
    assert page.locator("#xa-wf-findings li.warning").count() >= 1


def test_stored_markup_in_a_workflow_label_is_inert(logged_in, live_server):
    page = logged_in
    live_server.apply(DEAL)
    evil = "<img src=x onerror=window.__xss=1>"
    live_server.api(
        "PUT",
        "/meta/workflows/sales.evil_flow",
        {
            "name": "sales.evil_flow",
            "label": evil,
            "entity": "sales.deal",
            "stateField": "stage",
            "states": {
                "draft": {"initial": True, "label": evil},
                "won": {"final": True, "label": evil},
                "lost": {"final": True},
                "quoted": {},
            },
            "transitions": [
                {"name": "win", "label": evil, "from": "*", "to": "won"},
                {"name": "lose", "from": "*", "to": "lost"},
            ],
        },
    )
    page.goto("/admin/workflows/sales.evil_flow")
    page.wait_for_selector("#xa-wf-diagram svg g.xa-node")
    assert evil in page.inner_text("#xa-wf-diagram")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#xa-wf-editor img").count() == 0
