"""The dispatcher: claims, leases, fencing, retries with backoff, dead letters, the run log."""

from __future__ import annotations

import datetime as dt
import json
import random
import time

import pytest
import sqlalchemy as sa
from jobs_support import job_id_of, job_status

from xrm.core.context import SYSTEM
from xrm.core.jobs import Dispatcher, JobConfig, JobConfigError, enqueue, store
from xrm.core.jobs import admin as jobs_admin
from xrm.core.jobs.execution import backoff_seconds
from xrm.core.tables import outbox


def put(p, topic="test.work", key="k", payload=None, **kw) -> int:
    with p.engine.begin() as conn:
        enqueue(conn, topic, key, payload or {}, **kw)
    return job_id_of(p, key)


def claim(p, **kw):
    with p.engine.begin() as conn:
        return store.claim(
            conn, limit=kw.get("limit", 10), now=kw.get("now") or store.utcnow(), lease_seconds=60
        )


@pytest.fixture
def calls(platform):
    seen = []

    @platform.jobs.handler("test.work")
    def work(ctx, job):
        seen.append((job.key, job.attempt))
        ctx.step("worked", n=len(seen))
        if job.payload.get("fail"):
            raise ValueError(job.payload["fail"])

    return seen


def test_enqueue_is_idempotent_by_key(platform):
    with platform.engine.begin() as conn:
        assert enqueue(conn, "test.work", "same", {"n": 1}) is True
        assert enqueue(conn, "test.work", "same", {"n": 2}) is False
    with platform.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.payload).where(outbox.c.topic == "test.work"))
        assert [r.payload for r in rows] == ['{"n": 1}']


def test_a_claim_leases_the_message_and_counts_the_attempt(platform, calls):
    job_id = put(platform)
    [job] = claim(platform)
    assert (job.id, job.attempt, job.topic, job.key) == (job_id, 1, "test.work", "k")
    assert job_status(platform, job_id) == "running"
    assert claim(platform) == []  # leased: nobody else gets it


def test_a_message_is_not_delivered_before_it_is_due(platform, calls):
    with platform.engine.begin() as conn:
        enqueue(conn, "test.work", "later", {}, delay_seconds=3600)
    assert Dispatcher(platform, platform.jobs).drain() == []
    assert calls == []


def test_an_expired_lease_is_claimed_again_and_the_old_attempt_cannot_settle(platform, calls):
    put(platform)
    [first] = claim(platform)
    later = store.utcnow() + dt.timedelta(seconds=61)
    [second] = claim(platform, now=later)
    assert (second.id, second.attempt) == (first.id, 2)
    dispatcher = Dispatcher(platform, platform.jobs)
    stale = dispatcher.handle(first)
    assert stale.outcome == "lost"  # ran, but attempt 2 holds the message now
    assert job_status(platform, first.id) == "running"
    assert dispatcher.handle(second).outcome == "done"
    assert job_status(platform, first.id) == "done"


def test_a_failure_is_retried_later_with_backoff_then_dead_after_max_attempts(platform, calls):
    job_id = put(platform, payload={"fail": "boom"})
    dispatcher = Dispatcher(platform, platform.jobs)
    [d] = dispatcher.run_once()
    assert d.outcome == "retry" and d.retry_at > store.utcnow() - dt.timedelta(seconds=1)
    with platform.engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.id == job_id)).one()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ValueError: boom")
    assert row.available_at == d.retry_at
    outcomes = [d.outcome]
    deadline = time.monotonic() + 60  # the backoff is short; a loaded machine is slow
    while job_status(platform, job_id) != "dead" and time.monotonic() < deadline:
        outcomes += [x.outcome for x in dispatcher.run_once()]
        time.sleep(0.01)
    assert outcomes == ["retry", "retry", "dead"]
    assert [a for _, a in calls] == [1, 2, 3]
    with platform.engine.connect() as conn:
        job = jobs_admin.get(conn, job_id)
    assert job["lastError"] == "ValueError: boom (gave up after 3 attempts)"
    assert [r["attempt"] for r in job["runs"]] == [1, 2, 3]
    assert "Traceback" in job["runs"][0]["error"] and "ValueError: boom" in job["runs"][0]["error"]
    assert job["runs"][0]["steps"][0]["message"] == "worked"


def test_a_worker_lost_on_the_last_attempt_leaves_a_dead_letter_without_another_run(
    platform, calls
):
    job_id = put(platform)
    with platform.engine.begin() as conn:
        conn.execute(
            outbox.update()
            .where(outbox.c.id == job_id)
            .values(status="running", attempts=3, available_at=dt.datetime(2000, 1, 1))
        )
    [d] = Dispatcher(platform, platform.jobs).run_once()
    assert d.outcome == "dead" and calls == []
    assert "no attempts left" in d.error


def test_messages_without_a_handler_are_skipped(platform):
    platform.registry.apply_documents(
        [{"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}]
    )
    with platform.engine.begin() as conn:
        rec = platform.records.create(conn, SYSTEM, "crm.tag", {"name": "vip"})
    assert Dispatcher(platform, platform.jobs).drain() == []
    with platform.engine.connect() as conn:
        row = conn.execute(
            sa.select(outbox.c.status, outbox.c.last_error).where(
                outbox.c.record_id == rec["id"], outbox.c.topic == "record.created"
            )
        ).one()
    assert tuple(row) == ("skipped", "no handler for this topic")


def test_a_prefix_handler_receives_the_record_events(platform):
    seen = []
    platform.jobs.handler("record.*")(lambda ctx, job: seen.append((job.topic, job.entity)))
    platform.registry.apply_documents(
        [{"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}]
    )
    with platform.engine.begin() as conn:
        rec = platform.records.create(conn, SYSTEM, "crm.tag", {"name": "vip"})
        platform.records.update(conn, SYSTEM, "crm.tag", rec["id"], {"name": "VIP"})
    Dispatcher(platform, platform.jobs).drain()
    assert seen == [("record.created", "crm.tag"), ("record.updated", "crm.tag")]


def test_a_created_record_message_is_stored_without_changes_and_read_with_them(platform):
    """The changes of a new record repeat it, so they are not stored; a handler, Celery and the
    administrators' job view get them all the same: every field with a value, [null, value]."""
    payloads = []
    platform.jobs.handler("record.created")(lambda ctx, job: payloads.append(job.payload))
    platform.registry.apply_documents(
        [
            {
                "x-xrm": {"name": "crm.tag"},
                "properties": {
                    "name": {"type": "string"},
                    "rank": {"type": "integer"},
                    "note": {"type": "string"},
                },
            }
        ]
    )
    with platform.engine.begin() as conn:
        rec = platform.records.create(conn, SYSTEM, "crm.tag", {"name": "vip", "rank": 0})
    with platform.engine.connect() as conn:
        job_id, stored = conn.execute(
            sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.topic == "record.created")
        ).one()
        shown = jobs_admin.get(conn, job_id)["payload"]
    assert "changes" not in json.loads(stored)
    Dispatcher(platform, platform.jobs).drain()
    expected = {
        "entity": "crm.tag",
        "id": rec["id"],
        "action": "create",
        "record": json.loads(json.dumps(rec)),
        "changes": {"name": [None, "vip"], "rank": [None, 0]},
        "actor": SYSTEM.username,
    }
    assert payloads == [expected]
    assert list(payloads[0]) == ["entity", "id", "action", "record", "changes", "actor"]
    assert shown == expected
    # Any other payload is read as it was stored.
    for other in ({"action": "create", "changes": {}}, {"action": "update", "record": {"a": 1}}):
        assert store.read_payload(json.dumps(other)) == other
    assert store.read_payload("[1]") == {"value": [1]}
    assert store.read_payload("{oops") == {"_unreadable": "{oops"}


def test_releasing_a_claim_does_not_count_the_attempt(platform, calls):
    job_id = put(platform)
    [job] = claim(platform)
    with platform.engine.begin() as conn:
        assert store.release(conn, job, now=store.utcnow(), delay_seconds=0)
    with platform.engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.id == job_id)).one()
    assert (row.status, row.attempts) == ("pending", 0)


def test_backoff_doubles_per_attempt_with_jitter_and_a_ceiling():
    config = JobConfig(backoff_seconds=10, backoff_max=100)
    rng = random.Random(7)
    for attempt, full in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (12, 100)]:
        delays = [backoff_seconds(attempt, config, rng) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 10  # jittered


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"JOBS": "threads"}, "XRM_JOBS must be one of inline, worker, celery"),
        ({"JOBS_MAX_ATTEMPTS": "many"}, "XRM_JOBS_MAX_ATTEMPTS must be a whole number"),
        ({"JOBS_MAX_ATTEMPTS": 0}, "XRM_JOBS_MAX_ATTEMPTS must be at least 1"),
        ({"SMTP_TLS": "yes"}, "XRM_SMTP_TLS must be one of none, starttls, ssl"),
        ({"SMTP_PORT": "smtp"}, "XRM_SMTP_PORT must be a whole number"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(settings, message):
    with pytest.raises(JobConfigError, match=message):
        JobConfig.load(settings, env={})


def test_settings_come_from_the_environment_unless_configured():
    env = {"XRM_JOBS": "celery", "XRM_CELERY_BROKER": "amqp://x//", "XRM_SMTP_PORT": "2525"}
    config = JobConfig.load({"JOBS": "worker"}, env=env)
    assert (config.mode, config.celery_broker, config.smtp.port) == ("worker", "amqp://x//", 2525)
