"""The shell: login through Flask-AppBuilder, the start page and menu built from the metadata."""

from __future__ import annotations

from browser_kit import login, make_user

ACCOUNT = {
    "x-xrm": {"name": "crm.account", "labels": {"singular": "Account", "plural": "Accounts"}},
    "properties": {"name": {"type": "string"}},
}
SECRET = {
    "x-xrm": {"name": "hr.salary", "labels": {"singular": "Salary", "plural": "Salaries"}},
    "properties": {"amount": {"type": "integer"}},
}


def test_anonymous_visitors_are_sent_to_the_login_page(page):
    page.goto("/")
    assert "/login" in page.url


def test_the_menu_lists_the_entities_the_user_may_read(page, live_server):
    live_server.apply(ACCOUNT, SECRET)
    make_user(live_server, "sam", "sam-password-1", role="Sales", grants={"crm.account": ["read"]})
    login(page, "sam", "sam-password-1")
    page.goto("/")
    menu = page.locator("#xrm-menu")
    assert menu.locator("[data-menu-entity='crm.account']").count() == 1
    assert menu.locator("[data-menu-entity='hr.salary']").count() == 0


def test_a_new_entity_appears_in_the_menu_without_restart(logged_in, live_server):
    page = logged_in
    page.goto("/")
    assert page.locator("[data-menu-entity='crm.account']").count() == 0
    live_server.apply(ACCOUNT)
    page.reload()
    assert page.locator("[data-menu-entity='crm.account']").count() == 1
