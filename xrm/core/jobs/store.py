"""The outbox as a job queue: enqueue, claim, settle, and the run log.

Claiming is safe with any number of dispatchers on any number of hosts:

* PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED LIMIT n``, then ``UPDATE`` of the rows
  found, in one transaction: concurrent claimers skip each other's rows instead of waiting or
  taking them twice, and none takes more than its ``n``;
* SQLite: the same single ``UPDATE ... RETURNING`` statement; SQLite takes the write lock before
  the statement reads anything, so two claims are serialized and the second sees the first's.

A claim sets ``status='running'``, counts the attempt and leases the row until
``available_at`` (now + lease). A worker that dies leaves a lease that runs out, and the row is
claimed again. The attempt number is the fencing token: a worker settles a row only while it
still holds the attempt it claimed (``WHERE attempts = :attempt``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ...metadata.names import SYSTEM_COLUMNS
from ..tables import job_run, outbox
from .model import Job

#: Outbox states: waiting (or waiting to retry), claimed, delivered, given up, dropped by an
#: administrator, delivered to nobody (no handler for the topic).
STATUSES = ("pending", "running", "done", "dead", "discarded", "skipped")


def enqueue(
    conn: sa.Connection,
    topic: str,
    key: str,
    payload: dict[str, Any],
    *,
    entity: str | None = None,
    record_id: int | None = None,
    now: dt.datetime | None = None,
    delay_seconds: float = 0,
) -> bool:
    """Add a message in the caller's transaction; False when a message with the same
    idempotency key exists already (it is then not added again)."""
    now = now or utcnow()
    values = {
        "topic": topic,
        "entity": entity,
        "record_id": record_id,
        "payload": json.dumps(payload, default=str),
        "idempotency_key": key[:120],
        "created_at": now,
        "available_at": now + dt.timedelta(seconds=delay_seconds),
        "status": "pending",
        "attempts": 0,
    }
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name]
    stmt = insert(outbox).values(values).on_conflict_do_nothing().returning(outbox.c.id)
    return conn.execute(stmt).first() is not None


def claim(conn: sa.Connection, *, limit: int, now: dt.datetime, lease_seconds: float) -> list[Job]:
    """Claim up to ``limit`` due messages (pending, or running with an expired lease)."""
    due = sa.and_(outbox.c.status.in_(("pending", "running")), outbox.c.available_at <= now)
    candidates = (
        sa.select(outbox.c.id).where(due).order_by(outbox.c.available_at, outbox.c.id).limit(limit)
    )
    if conn.dialect.name == "postgresql":
        # The rows are locked first, then updated: as one statement (UPDATE ... WHERE id IN
        # (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)) PostgreSQL may run the sub-select again
        # for rows it checks, and with other claimers locking rows meanwhile each run finds
        # others: one claimer took 300 messages with a limit of 20 and left its peers idle.
        ids = conn.execute(candidates.with_for_update(skip_locked=True)).scalars().all()
        if not ids:
            return []
        chosen: Any = outbox.c.id.in_(ids)
    else:
        chosen = outbox.c.id.in_(candidates.scalar_subquery())
    stmt = (
        outbox.update()
        .where(chosen, due)
        .values(
            status="running",
            attempts=outbox.c.attempts + 1,
            available_at=now + dt.timedelta(seconds=lease_seconds),
        )
        .returning(*_JOB_COLUMNS)
    )
    return sorted((_job(r) for r in conn.execute(stmt)), key=lambda j: j.id)


def renew(
    conn: sa.Connection, job_id: int, attempt: int, *, now: dt.datetime, lease_seconds: float
) -> Job | None:
    """Extend the lease of a claimed message if ``attempt`` still holds it (a Celery worker
    starting a task); None when the message was settled or claimed again meanwhile."""
    row = conn.execute(
        outbox.update()
        .where(outbox.c.id == job_id, outbox.c.status == "running", outbox.c.attempts == attempt)
        .values(available_at=now + dt.timedelta(seconds=lease_seconds))
        .returning(*_JOB_COLUMNS)
    ).first()
    return _job(row) if row is not None else None


def settle(
    conn: sa.Connection,
    job: Job,
    status: str,
    *,
    now: dt.datetime,
    error: str | None = None,
    available_at: dt.datetime | None = None,
) -> bool:
    """Move a claimed message to ``status`` (done, dead, skipped, or pending to retry at
    ``available_at``); False when this attempt no longer holds it."""
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "pending":
        values["available_at"] = available_at or now
    else:
        values["dispatched_at"] = now
    res = conn.execute(
        outbox.update()
        .where(
            outbox.c.id == job.id, outbox.c.status == "running", outbox.c.attempts == job.attempt
        )
        .values(**values)
    )
    return res.rowcount == 1


def start_run(
    conn: sa.Connection, job: Job, *, worker: str, transport: str, now: dt.datetime
) -> int:
    return conn.execute(
        job_run.insert()
        .values(
            job_id=job.id,
            topic=job.topic,
            attempt=job.attempt,
            worker=worker[:120],
            transport=transport,
            started_at=now,
            outcome="running",
            steps="[]",
        )
        .returning(job_run.c.id)
    ).scalar_one()


def finish_run(
    conn: sa.Connection,
    run_id: int,
    *,
    outcome: str,
    now: dt.datetime,
    error: str | None,
    steps: list[dict[str, Any]],
) -> None:
    conn.execute(
        job_run.update()
        .where(job_run.c.id == run_id)
        .values(outcome=outcome, finished_at=now, error=error, steps=json.dumps(steps, default=str))
    )


def load(conn: sa.Connection, job_id: int) -> Job | None:
    row = conn.execute(sa.select(*_JOB_COLUMNS).where(outbox.c.id == job_id)).first()
    return _job(row) if row is not None else None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


_JOB_COLUMNS = (
    outbox.c.id,
    outbox.c.topic,
    outbox.c.idempotency_key,
    outbox.c.entity,
    outbox.c.record_id,
    outbox.c.payload,
    outbox.c.attempts,
    outbox.c.created_at,
)


def read_payload(text: str) -> dict[str, Any]:
    """A message's payload (stored JSON text) as handlers and administrators see it.

    A ``record.created`` message is stored without the payload's ``changes``: for a new record
    they are every field of ``record`` that has a value, each as ``[null, value]``, so storing
    them would only repeat the record (it was half of every created record's message, a table
    the changes feed keeps). They are restored here, the one place a payload is read."""
    try:
        payload = json.loads(text)
    except ValueError:
        return {"_unreadable": text}
    if not isinstance(payload, dict):
        return {"value": payload}
    record = payload.get("record")
    if payload.get("action") != "create" or "changes" in payload or not isinstance(record, dict):
        return payload
    changes = {k: [None, v] for k, v in record.items() if v is not None and k not in _SYSTEM}
    out: dict[str, Any] = {}
    for key, value in payload.items():  # in the order the service's payload has its keys
        out[key] = value
        if key == "record":
            out["changes"] = changes
    return out


_SYSTEM = frozenset(SYSTEM_COLUMNS)


def _job(row) -> Job:
    payload = read_payload(row.payload)
    return Job(
        id=row.id,
        topic=row.topic,
        key=row.idempotency_key,
        entity=row.entity,
        record_id=row.record_id,
        payload=payload,
        attempt=row.attempts,
        created_at=row.created_at,
    )


def skip_unhandled(
    conn: sa.Connection, exact: list[str], prefixes: list[str], *, now: dt.datetime
) -> int:
    """Mark pending messages no handler delivers (e.g. ``record.*`` change events when nothing
    listens to them) as ``skipped``, in one statement, so they never clog the queue."""
    handled = [outbox.c.topic.in_(exact)] if exact else []
    handled += [outbox.c.topic.startswith(p, autoescape=True) for p in prefixes]
    where = [outbox.c.status == "pending"]
    if handled:
        where.append(sa.not_(sa.or_(*handled)))
    res = conn.execute(
        outbox.update()
        .where(*where)
        .values(status="skipped", dispatched_at=now, last_error="no handler for this topic")
    )
    return res.rowcount


def release(conn: sa.Connection, job: Job, *, now: dt.datetime, delay_seconds: float) -> bool:
    """Give a claimed message back without counting the attempt (it was never handed to a
    handler, e.g. the broker was unreachable)."""
    res = conn.execute(
        outbox.update()
        .where(
            outbox.c.id == job.id, outbox.c.status == "running", outbox.c.attempts == job.attempt
        )
        .values(
            status="pending",
            attempts=outbox.c.attempts - 1,
            available_at=now + dt.timedelta(seconds=delay_seconds),
        )
    )
    return res.rowcount == 1
