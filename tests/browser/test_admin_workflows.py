"""The workflow designer, driven as an administrator would: states from the choice field,
transitions with roles, a guard whose syntax error is shown and fixed, the diagram, saving
(the workflow is then active through the API), and the verifier's warnings."""

from __future__ import annotations

import re

from admin_fixtures import shoot
from browser_kit import allow_console_errors
from playwright.sync_api import expect

from xrm.core.plugins import hookimpl


class Pager:
    """A plugin that registers one action type, offered by the action editor."""

    @hookimpl
    def xrm_plugin_info(self):
        return {"name": "pager", "version": "1.0.0"}

    @hookimpl
    def xrm_action_types(self):
        return [
            {
                "name": "pager.page",
                "doc": "Page the engineer on call",
                "params": {"team": {"type": "string"}, "urgent": {"type": "boolean"}},
                "required": ["team"],
                "run": lambda *args, **kwargs: None,
            }
        ]


def LIVE_SERVER_PLUGINS():  # read by the live_server fixture
    return {"pager": Pager()}


DEAL = {
    "x-xrm": {"name": "sales.deal", "titleField": "name"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "amount": {"type": "integer"},
        "note": {"type": "string"},
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

#: A three-step flow on sales.deal, the starting point of the action and timer editors' tests.
DEAL_FLOW = {
    "name": "sales.deal_flow",
    "entity": "sales.deal",
    "stateField": "stage",
    "states": {
        "draft": {"initial": True},
        "quoted": {},
        "won": {"final": True},
        "lost": {"final": True},
    },
    "transitions": [
        {"name": "quote", "from": "draft", "to": "quoted"},
        {"name": "win", "from": "quoted", "to": "won"},
        {"name": "lose", "from": "*", "to": "lost"},
    ],
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


def test_actions_and_approval_levels_are_edited_with_forms(logged_in, live_server):
    page = logged_in
    allow_console_errors(page, "status of 422")
    live_server.apply(DEAL)
    for role in ("sales_manager", "sales_director"):
        live_server.api("POST", "/admin/roles", {"name": role})
    live_server.api("PUT", "/meta/workflows/sales.deal_flow", DEAL_FLOW)
    page.goto("/admin/workflows/sales.deal_flow")
    page.click("a[href='#xa-wf-tab-transitions']")
    card = page.locator("#xa-transitions .xa-transition[data-transition='1']")
    actions = card.locator("[data-editor=actions]")

    # set fields: a field and an expression, with a type error shown at the expression
    actions.locator("button[name=add-action]").click()
    first = actions.locator(".xa-item[data-index='0']")
    first.locator("button[name=add-pair]").click()
    first.locator("select[name=pair-key]").select_option("note")
    first.locator("input[name=pair-value]").fill("record.amount + 'x'")
    expect(first.locator(".has-error .xa-finding")).to_contain_text("+")
    expect(page.locator("#xa-wf-status")).to_contain_text("error")
    first.locator("input[name=pair-value]").fill("'won at ' + string(record.amount)")
    expect(page.locator("#xa-wf-status")).to_have_text("no errors")

    # notify a role, then a plugin's action type with the form of its parameters
    actions.locator("button[name=add-action]").click()
    second = actions.locator(".xa-item[data-index='1']")
    second.locator("select[name=action-type]").select_option("notify")
    second.locator("select[name=notify-roles]").select_option("sales_manager")
    second.locator("input[name=notify-subject]").fill("Deal {{ record.name }} won")
    actions.locator("button[name=add-action]").click()
    third = actions.locator(".xa-item[data-index='2']")
    third.locator("select[name=action-type]").select_option("pager.page")
    expect(third).to_contain_text("Page the engineer on call")
    third.locator("input[name=param-team]").fill("sales")

    # two approval levels, the second only for large deals
    approvals = card.locator("[data-editor=approvals]")
    approvals.locator("button[name=add-approval-level]").click()
    approvals.locator("button[name=add-approval-level]").click()
    levels = approvals.locator(".xa-item")
    levels.nth(0).locator("input[name=approval-name]").fill("manager")
    levels.nth(0).locator("select[name=approval-roles]").select_option("sales_manager")
    levels.nth(1).locator("input[name=approval-name]").fill("director")
    levels.nth(1).locator("select[name=approval-roles]").select_option(
        ["sales_manager", "sales_director"]
    )
    levels.nth(1).locator("textarea[name=approval-when]").fill("record.amount > 100000")
    expect(page.locator("#xa-wf-status")).to_have_text("no errors")
    card.scroll_into_view_if_needed()
    shoot(page, "admin_workflow_actions")

    # the JSON view shows the same actions, for power users
    actions.locator("button[name=actions-json]").click()
    expect(actions.locator("textarea[name=actions-json-text]")).to_have_value(
        re.compile('"type": "pager.page"')
    )
    page.click("#xa-wf-save")
    expect(page.locator("#xa-alerts .alert-success")).to_contain_text("revision 2")

    win = live_server.api("GET", "/meta/workflows/sales.deal_flow")["document"]["transitions"][1]
    assert win["actions"] == [
        {"type": "setFields", "values": {"note": "'won at ' + string(record.amount)"}},
        {
            "type": "notify",
            "to": {"owner": True, "roles": ["sales_manager"]},
            "subject": "Deal {{ record.name }} won",
        },
        {"type": "pager.page", "params": {"team": "sales"}},
    ]
    assert win["approvals"] == [
        {"name": "manager", "role": "sales_manager"},
        {
            "name": "director",
            "roles": ["sales_manager", "sales_director"],
            "when": "record.amount > 100000",
        },
    ]


def test_timers_are_edited_with_a_form_and_their_errors_shown_at_the_input(logged_in, live_server):
    page = logged_in
    allow_console_errors(page, "status of 422")
    dated = {
        **DEAL,
        "properties": {**DEAL["properties"], "close_on": {"type": "string", "format": "date"}},
    }
    live_server.apply(dated)
    live_server.api("PUT", "/meta/workflows/sales.deal_flow", DEAL_FLOW)
    page.goto("/admin/workflows/sales.deal_flow")
    timers = page.locator("#xa-states tr.xa-state-timers[data-state='quoted'] [data-editor=timers]")

    # after a time in the state: a malformed duration is shown at its input, then fixed
    timers.locator("button[name=add-timer]").click()
    first = timers.locator(".xa-item[data-index='0']")
    first.locator("input[name=timer-name]").fill("stale")
    first.locator("input[name=timer-after]").fill("14 days")
    expect(first.locator(".has-error .xa-finding").first).to_be_visible()
    expect(page.locator("#xa-wf-status")).to_contain_text("error")
    first.locator("input[name=timer-after]").fill("P14D")
    expect(first.locator("select[name=timer-transition] option")).to_have_text(
        ["(none: actions only)", "win", "lose"]  # the transitions leaving "quoted"
    )
    first.locator("select[name=timer-transition]").select_option("lose")
    expect(page.locator("#xa-wf-status")).to_have_text("no errors")

    # at a date field, a day before, running an action instead of a transition
    timers.locator("button[name=add-timer]").click()
    second = timers.locator(".xa-item[data-index='1']")
    second.locator("input[name=timer-name]").fill("reminder")
    second.locator("select[name=timer-due]").select_option("at")
    second.locator("select[name=timer-at]").select_option("close_on")
    second.locator("input[name=timer-offset]").fill("-P1D")
    second.locator("button[name=add-action]").click()
    second.locator("select[name=action-type]").select_option("notify")
    second.locator("input[name=notify-subject]").fill("Deal {{ record.name }} closes tomorrow")
    expect(page.locator("#xa-wf-status")).to_have_text("no errors")

    timers.locator("button[name=timers-json]").click()  # the same timers as JSON
    expect(timers.locator("textarea[name=timers-json-text]")).to_have_value(
        re.compile('"offset": "-P1D"')
    )
    page.click("#xa-wf-save")
    expect(page.locator("#xa-alerts .alert-success")).to_contain_text("revision 2")
    stored = live_server.api("GET", "/meta/workflows/sales.deal_flow")["document"]
    assert stored["states"]["quoted"]["timers"] == [
        {"name": "stale", "after": "P14D", "transition": "lose"},
        {
            "name": "reminder",
            "at": "close_on",
            "offset": "-P1D",
            "actions": [
                {
                    "type": "notify",
                    "to": {"owner": True},
                    "subject": "Deal {{ record.name }} closes tomorrow",
                }
            ],
        },
    ]
