"""The Celery side without a broker: a stale task does nothing, and a relay that cannot reach
its broker gives the claim back without counting the attempt."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import sqlalchemy as sa
from jobs_support import free_port, job_id_of

from xrm.core.jobs import enqueue, store
from xrm.core.jobs.celery import TASK, CeleryRelay, bind_platform, make_celery
from xrm.core.tables import outbox


def test_a_task_whose_attempt_no_longer_holds_the_message_does_nothing(platform):
    seen = []
    platform.jobs.handler("test.celery")(lambda ctx, job: seen.append(job.attempt))
    with platform.engine.begin() as conn:
        enqueue(conn, "test.celery", "c-1", {})
    job_id = job_id_of(platform, "c-1")
    with platform.engine.begin() as conn:
        [first] = store.claim(conn, limit=1, now=store.utcnow(), lease_seconds=60)
    later = store.utcnow() + dt.timedelta(seconds=61)
    with platform.engine.begin() as conn:
        [second] = store.claim(conn, limit=1, now=later, lease_seconds=60)
    app = make_celery(platform.jobs.config)
    bind_platform(app, platform)
    task = app.tasks[TASK]
    assert task(job_id, first.attempt) == {"job": job_id, "attempt": 1, "outcome": "stale"}
    assert seen == []
    assert task(job_id, second.attempt)["outcome"] == "done"
    assert seen == [2]


def test_an_unreachable_broker_gives_the_claim_back_without_counting_the_attempt(platform):
    platform.jobs.handler("test.celery")(lambda ctx, job: None)
    platform.jobs.config = replace(
        platform.jobs.config, celery_broker=f"redis://127.0.0.1:{free_port()}/0"
    )
    with platform.engine.begin() as conn:
        enqueue(conn, "test.celery", "c-2", {})
    relay = CeleryRelay(platform, platform.jobs)
    relay.celery.conf.broker_connection_timeout = 1
    assert relay.run_once() == [None]
    with platform.engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.idempotency_key == "c-2")).one()
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.available_at > store.utcnow()
