"""Dashboards declared by a plugin, plugin menus and views, rendered from the aggregate API."""

from __future__ import annotations

import json

from browser_kit import login, make_user
from playwright.sync_api import expect

from xrm.web.ui.tour import TourPlugin, install


def LIVE_SERVER_PLUGINS():  # read by the live_server fixture
    return {"tour": TourPlugin()}


def chart(page, title):
    return page.locator(".xrm-chart", has=page.locator(f"h4:text-is('{title}')"))


def test_the_dashboard_draws_each_chart_from_the_aggregates(page, live_server):
    install(live_server.platform, accounts=6, opportunities=20)
    counts = live_server.api("GET", "/data/tour.opportunity/aggregate?group=stage&measure=count")
    by_stage = {i["key"]: i["count"] for i in counts["items"]}
    open_count = sum(by_stage.get(s, 0) for s in ("lead", "qualified", "proposal"))
    login(page)
    page.click("[data-menu-group=tour] > a")
    page.click("[data-menu-dashboard='tour.sales']")
    expect(chart(page, "Open opportunities").locator(".xrm-number")).to_have_text(str(open_count))
    funnel = chart(page, "Pipeline by stage")
    funnel.locator("svg").wait_for()
    values = json.loads(funnel.locator(".xrm-chart-body").get_attribute("data-values"))
    order = ["lead", "qualified", "proposal", "won", "lost"]
    assert values == [by_stage[s] for s in order if s in by_stage]  # the workflow's order
    for title in ("Amount by stage", "Accounts by industry", "Expected closes per month"):
        chart(page, title).locator("svg").wait_for()
    abc = chart(page, "ABC analysis of accounts by amount")
    expect(abc.locator("[data-abc=A]")).to_contain_text("A:")


def test_plugin_menus_and_views_follow_the_users_rights(page, live_server):
    install(live_server.platform, accounts=3, opportunities=5)
    make_user(
        live_server, "acc", "acc-password-1", role="Accounts", grants={"tour.account": ["read"]}
    )
    login(page, "acc", "acc-password-1")
    page.click("[data-menu-group=tour] > a")
    menu = page.locator("[data-menu-group=tour]")
    assert menu.locator("[data-menu-entity='tour.account']").count() == 1
    assert menu.locator("[data-menu-entity='tour.opportunity']").count() == 0
    assert menu.locator("[data-menu-view='tour.pipeline_board']").count() == 0
    # the dashboard shows only the chart of the entity the user may read
    menu.locator("[data-menu-dashboard='tour.sales']").click()
    expect(page.locator(".xrm-chart")).to_have_count(1)
    expect(page.locator(".xrm-chart h4")).to_have_text("Accounts by industry")


def test_a_plugin_board_view_opens_the_board(page, live_server):
    install(live_server.platform, accounts=3, opportunities=8)
    login(page)
    page.click("[data-menu-group=tour] > a")
    page.click("[data-menu-view='tour.pipeline_board']")
    expect(page.locator(".xrm-lane")).to_have_count(5)
    assert page.input_value("#xrm-board-group") == "stage"
