"""The other admin pages as an administrator uses them: entity history with diffs, plugins
(install with its plan, disable, enable), the audit log with filters, and the automation run
log with a dead letter retried. This module serves the app with a small plugin and without
the in-process job runner, so the jobs it shows stay where the test put them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from admin_fixtures import serve, shoot
from playwright.sync_api import expect

from xrm.core.plugins import hookimpl
from xrm.core.tables import outbox


class Tickets:
    @hookimpl
    def xrm_plugin_info(self):
        return {"name": "tickets", "label": "Help desk", "version": "1.2.0"}

    @hookimpl
    def xrm_entity_definitions(self):
        return [
            {"x-xrm": {"name": "tickets.ticket"}, "properties": {"subject": {"type": "string"}}}
        ]


@pytest.fixture
def live_server(make_app):
    with serve(make_app, plugins={"tickets": Tickets()}, JOBS="worker") as server:
        yield server


def test_the_history_shows_each_version_with_its_diff(logged_in, live_server):
    page = logged_in
    doc = {"x-xrm": {"name": "sales.lead"}, "properties": {"company": {"type": "string"}}}
    live_server.apply(doc)
    doc["properties"]["budget"] = {"type": "integer", "title": "Budget"}
    live_server.apply(doc)
    page.goto("/admin/entities/sales.lead")
    page.click("#xa-history-link")
    page.wait_for_selector(".xa-revision[data-revision='2']")
    latest = page.locator(".xa-revision").first
    assert "add_field" in latest.inner_text()
    added = latest.locator(".xa-diff .add")
    assert any('"budget"' in t for t in added.all_inner_texts())
    shoot(page, "admin_entity_history")


def test_plugins_are_installed_after_their_plan_and_disabled_and_enabled(logged_in, live_server):
    page = logged_in
    page.goto("/admin/plugins")
    row = page.locator("#xa-plugins tr[data-plugin='tickets']")
    expect(row.locator("[data-status='available']")).to_have_count(1)
    expect(row).to_contain_text("1.2.0")
    row.locator("button[name=install]").click()
    plan = page.locator("#xa-plugin-plan")
    plan.wait_for()
    assert "create entity tickets.ticket" in plan.inner_text()
    plan.locator("button[name=apply-plugin]").click()
    page.wait_for_selector("#xa-plugins tr[data-plugin='tickets'] [data-status='installed']")
    assert "tickets.ticket" in [
        e["name"] for e in live_server.api("GET", "/meta/entities")["items"]
    ]
    shoot(page, "admin_plugins")

    page.click("#xa-plugins tr[data-plugin='tickets'] button[name=disable]")
    page.wait_for_selector("#xa-plugins tr[data-plugin='tickets'] [data-status='disabled']")
    assert live_server.api("GET", "/admin/plugins/tickets")["status"] == "disabled"
    page.click("#xa-plugins tr[data-plugin='tickets'] button[name=enable]")
    page.wait_for_selector("#xa-plugins tr[data-plugin='tickets'] [data-status='installed']")


def test_the_audit_log_filters_by_entity_and_record_and_shows_values_as_text(
    logged_in, live_server
):
    page = logged_in
    live_server.apply(
        {"x-xrm": {"name": "sales.lead"}, "properties": {"company": {"type": "string"}}},
        {"x-xrm": {"name": "sales.note"}, "properties": {"text": {"type": "string"}}},
    )
    evil = "<script>window.__xss=1</script>"
    lead = live_server.api("POST", "/data/sales.lead", {"company": "ACME"})
    live_server.api("PATCH", f"/data/sales.lead/{lead['id']}", {"company": evil})
    live_server.api("POST", "/data/sales.note", {"text": "hello"})
    page.goto("/admin/audit")
    page.wait_for_selector("#xa-audit tbody tr[data-id]")
    assert page.locator("#xa-audit tbody tr[data-id]").count() == 3
    page.fill("input[name=entity]", "sales.lead")
    page.fill("input[name=record]", str(lead["id"]))
    page.click("#xa-audit-filters button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#xa-audit tbody tr[data-id]').length === 2")
    newest = page.locator("#xa-audit tbody tr[data-id]").first
    assert "update" in newest.inner_text()
    assert evil in newest.inner_text()
    assert page.evaluate("window.__xss") is None
    assert f"record={lead['id']}" in page.url
    shoot(page, "admin_audit")


def test_a_dead_letter_is_listed_with_its_error_and_retried(logged_in, live_server):
    page = logged_in
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with live_server.platform.engine.begin() as conn:
        job_id = conn.execute(
            outbox.insert()
            .values(
                topic="action.webhook",
                payload=json.dumps({"url": "https://erp.example.com/hook", "token": "s3cret"}),
                idempotency_key="test-dead-1",
                created_at=now,
                available_at=now,
                attempts=5,
                status="dead",
                last_error="HTTP 502 from erp.example.com <b>bad gateway</b>",
            )
            .returning(outbox.c.id)
        ).scalar_one()
    page.goto("/admin/jobs")
    row = page.locator(f"#xa-jobs tr[data-job='{job_id}']")
    row.wait_for()
    assert "<b>bad gateway</b>" in row.inner_text()
    row.locator("button[name=runs]").click()
    panel = page.locator("#xa-job-panel")
    panel.wait_for()
    assert "s3cret" not in panel.inner_text()  # secrets in payloads are masked
    shoot(page, "admin_jobs")
    row.locator("button[name=retry]").click()
    page.wait_for_selector("#xa-alerts .alert-success")
    assert live_server.api("GET", f"/admin/jobs/{job_id}")["status"] == "pending"
    assert page.locator(f"#xa-jobs tr[data-job='{job_id}']").count() == 0  # gone from dead letters
