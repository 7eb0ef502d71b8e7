"""Delivery of the built-in actions, the same specification for every transport: in-process
(inline), Celery on Redis and Celery on RabbitMQ (``transport`` fixture, conftest.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import replace
from email import message_from_bytes

import sqlalchemy as sa
from jobs_support import WEBHOOK_SECRET, free_port, job_id_of

from xrm.core.context import SYSTEM
from xrm.core.jobs import PermanentError, RetryableError, enqueue
from xrm.core.jobs import admin as jobs_admin
from xrm.core.plugins.hookspecs import hookimpl
from xrm.core.tables import notification, outbox


def put(p, topic: str, key: str, payload: dict, **kw) -> int:
    with p.engine.begin() as conn:
        assert enqueue(conn, topic, key, payload, **kw)
    return job_id_of(p, key)


def runs(p, job_id: int) -> list[dict]:
    with p.engine.connect() as conn:
        return jobs_admin.get(conn, job_id)["runs"]


# -- webhooks ---------------------------------------------------------------------------------


def test_a_webhook_is_posted_signed_with_its_idempotency_key(platform, transport, receiver):
    job = put(
        platform,
        "action.webhook",
        "wh-1",
        {"url": receiver.url + "/hook", "payload": {"lead": 12, "status": "qualified"}},
    )
    assert transport.settle(job) == "done"
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req["method"] == "POST" and req["path"] == "/hook"
    assert json.loads(req["body"]) == {"lead": 12, "status": "qualified"}
    expected = hmac.new(WEBHOOK_SECRET.encode(), req["body"], hashlib.sha256).hexdigest()
    assert req["headers"]["X-Xrm-Signature"] == f"sha256={expected}"
    assert req["headers"]["X-Xrm-Idempotency-Key"] == "wh-1"
    assert req["headers"]["Content-Type"] == "application/json"
    [run] = runs(platform, job)
    assert run["outcome"] == "done" and run["attempt"] == 1
    assert run["transport"] == ("inline" if transport.name == "inline" else "celery")
    assert any(s["message"] == "answered 200" for s in run["steps"])


def test_a_webhook_uses_its_own_secret_and_the_record_as_default_body(
    platform, transport, receiver
):
    record = {"id": 5, "name": "Acme"}
    job = put(
        platform,
        "action.webhook",
        "wh-own",
        {"url": receiver.url, "secret": "s3cr3t", "record": record, "event": "crm.won"},
        entity="crm.account",
        record_id=5,
    )
    transport.settle(job)
    req = receiver.requests[0]
    assert json.loads(req["body"]) == {
        "event": "crm.won",
        "entity": "crm.account",
        "id": 5,
        "record": record,
    }
    sig = hmac.new(b"s3cr3t", req["body"], hashlib.sha256).hexdigest()
    assert req["headers"]["X-Xrm-Signature"] == f"sha256={sig}"


def test_a_webhook_without_payload_or_record_sends_the_stored_record(platform, transport, receiver):
    platform.registry.apply_documents(
        [{"x-xrm": {"name": "crm.lead"}, "properties": {"name": {"type": "string"}}}]
    )
    with platform.engine.begin() as conn:
        lead = platform.records.create(conn, SYSTEM, "crm.lead", {"name": "Hot lead"})
    job = put(
        platform,
        "action.webhook",
        "wh-stored",
        {"url": receiver.url, "method": "PUT", "payload": None},
        entity="crm.lead",
        record_id=lead["id"],
    )
    transport.settle(job)
    body = receiver.json(0)
    assert receiver.requests[0]["method"] == "PUT"
    assert (body["event"], body["entity"], body["id"]) == ("action.webhook", "crm.lead", lead["id"])
    assert body["record"]["name"] == "Hot lead"


def test_a_failing_webhook_is_retried_with_the_same_key_until_it_succeeds(
    platform, transport, receiver
):
    receiver.answer(503, b"busy")
    receiver.answer(429, b"slow down", {"Retry-After": "0"})
    job = put(platform, "action.webhook", "wh-retry", {"url": receiver.url})
    assert transport.settle(job, timeout=30) == "done"
    assert len(receiver.requests) == 3
    assert {r["headers"]["X-Xrm-Idempotency-Key"] for r in receiver.requests} == {"wh-retry"}
    assert [r["headers"]["X-Xrm-Delivery-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert [r["outcome"] for r in runs(platform, job)] == ["retry", "retry", "done"]


def test_a_webhook_refused_with_a_client_error_is_dead_with_the_response_logged(
    platform, transport, receiver
):
    receiver.answer(404, b'{"error": "no such hook"}')
    job = put(platform, "action.webhook", "wh-404", {"url": receiver.url})
    assert transport.settle(job, ("dead",)) == "dead"
    assert len(receiver.requests) == 1  # not retried
    [run] = runs(platform, job)
    assert run["outcome"] == "dead"
    assert "answered 404" in run["error"]
    assert any(
        s.get("data", {}).get("response") == '{"error": "no such hook"}' for s in run["steps"]
    )


def test_an_unreachable_webhook_goes_to_the_dead_letters_after_the_last_attempt(
    platform, transport
):
    port = free_port()
    job = put(platform, "action.webhook", "wh-down", {"url": f"http://127.0.0.1:{port}/"})
    assert transport.settle(job, ("dead",), timeout=30) == "dead"
    assert [r["outcome"] for r in runs(platform, job)] == ["retry", "retry", "dead"]
    with platform.engine.connect() as conn:
        dead = jobs_admin.page(conn, status="dead")["items"]
    assert [d["key"] for d in dead] == ["wh-down"]
    assert "gave up after 3 attempts" in dead[0]["lastError"]


# -- e-mail -----------------------------------------------------------------------------------


def test_an_email_is_sent_through_smtp_with_the_right_headers(
    platform, transport, smtp_server, jobs_app
):
    platform.jobs.config = replace(
        platform.jobs.config,
        smtp=replace(platform.jobs.config.smtp, port=smtp_server.port, sender="crm@example.org"),
    )
    with jobs_app.app_context():
        sm = jobs_app.appbuilder.sm
        bob = sm.add_user("bob", "Bob", "B", "bob@example.org", sm.find_role("Admin"), password="x")
    job = put(
        platform,
        "action.email",
        "mail-1",
        {
            "to": ["ann@example.org"],
            "users": [bob.id],
            "subject": "Quote 42 approved",
            "body": "The quote was approved.",
        },
    )
    assert transport.settle(job) == "done"
    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "crm@example.org"
    assert sorted(envelope.rcpt_tos) == ["ann@example.org", "bob@example.org"]
    msg = message_from_bytes(envelope.content)
    assert msg["From"] == "crm@example.org"
    assert msg["To"] == "ann@example.org, bob@example.org"
    assert msg["Subject"] == "Quote 42 approved"
    assert msg["X-Xrm-Idempotency-Key"] == "mail-1"
    assert msg["Message-ID"].startswith("<xrm.") and msg["Message-ID"].endswith("@example.org>")
    assert msg.get_payload().strip() == "The quote was approved."


def test_an_email_without_any_recipient_is_dead_at_once(platform, transport, smtp_server):
    job = put(platform, "action.email", "mail-none", {"subject": "Hello", "users": []})
    assert transport.settle(job, ("dead",)) == "dead"
    assert smtp_server.envelopes == []
    assert "no recipient" in runs(platform, job)[0]["error"]


# -- in-app notifications ---------------------------------------------------------------------


def _users(app):
    with app.app_context():
        sm = app.appbuilder.sm
        sales = sm.add_role("Sales")
        admin = sm.find_role("Admin")
        ann = sm.add_user("ann", "Ann", "A", "ann@example.org", sales, password="x")
        bob = sm.add_user("bob", "Bob", "B", "bob@example.org", sales, password="x")
        cat = sm.add_user("cat", "Cat", "C", "cat@example.org", admin, password="x")
        return ann.id, bob.id, cat.id


def _inbox(p, user_id: int) -> list[str]:
    with p.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(notification.c.subject)
                .where(notification.c.user_id == user_id)
                .order_by(notification.c.id)
            ).scalars()
        )


def test_a_notification_reaches_users_roles_and_the_record_owner_once(
    platform, transport, jobs_app
):
    ann, bob, cat = _users(jobs_app)
    platform.registry.apply_documents(
        [{"x-xrm": {"name": "crm.lead"}, "properties": {"name": {"type": "string"}}}]
    )
    with platform.engine.begin() as conn:
        lead = platform.records.create(conn, SYSTEM, "crm.lead", {"name": "L", "owner_id": cat})
    job = put(
        platform,
        "action.notify",
        "n-1",
        {"roles": ["Sales"], "users": [bob], "owner": True, "subject": "Lead L is hot"},
        entity="crm.lead",
        record_id=lead["id"],
    )
    transport.settle(job)
    assert _inbox(platform, ann) == ["Lead L is hot"]
    assert _inbox(platform, bob) == ["Lead L is hot"]  # named twice, notified once
    assert _inbox(platform, cat) == ["Lead L is hot"]  # the owner


def test_a_redelivered_notification_adds_nothing(platform, transport, jobs_app):
    ann, _bob, _cat = _users(jobs_app)
    job = put(platform, "action.notify", "n-again", {"users": [ann], "subject": "Once"})
    transport.settle(job)
    # What a worker that dies after the handler and before settling leaves: a claimed message
    # whose lease runs out. It is delivered again (at least once)...
    with platform.engine.begin() as conn:
        conn.execute(
            outbox.update()
            .where(outbox.c.id == job)
            .values(status="running", available_at=dt.datetime(2000, 1, 1))
        )
    transport.settle(job)
    assert len(runs(platform, job)) == 2
    # ... and the inbox keeps one notification per key and user.
    assert _inbox(platform, ann) == ["Once"]


# -- plugin action types and custom handlers ---------------------------------------------------


class QuotePlugin:
    def __init__(self):
        self.calls = []

    @hookimpl
    def xrm_action_types(self):
        return [
            {
                "name": "crm.sendQuote",
                "doc": "Send the quote",
                "params": {"template": {"type": "string"}},
                "run": self.run,
            }
        ]

    def run(self, context, params, record):
        context.step("rendering", template=params["template"])
        self.calls.append((params, record, context.job.key))
        return {"sent": True}


def test_a_plugin_action_type_runs_with_its_params_and_record(platform, transport):
    plugin = QuotePlugin()
    platform.plugins.register(plugin, name="quotes")
    try:
        job = put(
            platform,
            "action.crm.sendQuote",
            "q-1",
            {"params": {"template": "standard"}, "record": {"id": 3, "total": 10}},
        )
        transport.settle(job)
    finally:
        platform.plugins.unregister(name="quotes")
    assert plugin.calls == [({"template": "standard"}, {"id": 3, "total": 10}, "q-1")]
    steps = [s["message"] for s in runs(platform, job)[0]["steps"]]
    assert steps == ["run crm.sendQuote (plugin quotes)", "rendering", "result"]


def test_an_unknown_action_type_is_dead_with_a_clear_error(platform, transport):
    job = put(platform, "action.crm.nothing", "q-none", {"params": {}})
    assert transport.settle(job, ("dead",)) == "dead"
    assert "no plugin provides the action type 'crm.nothing'" in runs(platform, job)[0]["error"]


def test_a_handler_decides_retry_or_give_up_with_typed_errors(platform, transport):
    seen = []

    @platform.jobs.handler("test.flaky")
    def flaky(ctx, job):
        seen.append(job.attempt)
        if job.payload["fail"] == "permanent":
            raise PermanentError("the customer does not exist")
        if job.attempt < 2:
            raise RetryableError("not yet", retry_after=0)
        return None

    a = put(platform, "test.flaky", "f-retry", {"fail": "retry"})
    b = put(platform, "test.flaky", "f-perm", {"fail": "permanent"})
    assert transport.settle(a) == "done"
    assert transport.settle(b, ("dead",)) == "dead"
    assert [r["outcome"] for r in runs(platform, a)] == ["retry", "done"]
    assert [r["outcome"] for r in runs(platform, b)] == ["dead"]
    assert "PermanentError: the customer does not exist" in runs(platform, b)[0]["error"]


def test_an_administrator_retry_delivers_a_dead_job_again(platform, transport, receiver):
    receiver.answer(400, b"bad")
    job = put(platform, "action.webhook", "wh-admin", {"url": receiver.url})
    transport.settle(job, ("dead",))
    with platform.engine.begin() as conn:
        jobs_admin.retry(conn, job)
    assert transport.settle(job) == "done"
    assert [r["outcome"] for r in runs(platform, job)] == ["dead", "done"]
    assert len(receiver.requests) == 2
