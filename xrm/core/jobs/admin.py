"""What administrators see and do with jobs: lists by status and topic, one job with its run
log, retrying a dead (or waiting) message, discarding one. Secrets in payloads are masked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from ..tables import job_run, outbox
from . import store
from .errors import JobNotFound, JobStateConflict
from .store import STATUSES, utcnow

MAX_PAGE = 200
SECRET_KEYS = ("secret", "password", "token", "authorization", "api_key", "apikey")
RETRYABLE = ("dead", "discarded", "pending", "skipped")
DISCARDABLE = ("dead", "pending")


def page(
    conn: sa.Connection,
    *,
    status: str | None = None,
    topic: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> dict[str, Any]:
    """Jobs newest first; ``topic`` is exact or a prefix ending in ``*``."""
    limit = max(1, min(limit, MAX_PAGE))
    where = []
    if status is not None:
        where.append(outbox.c.status == status)
    if topic:
        if topic.endswith("*"):
            where.append(outbox.c.topic.startswith(topic[:-1], autoescape=True))
        else:
            where.append(outbox.c.topic == topic)
    if before is not None:
        where.append(outbox.c.id < before)
    rows = conn.execute(
        sa.select(outbox).where(*where).order_by(outbox.c.id.desc()).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [summary(r) for r in rows], "next": rows[-1].id if more and rows else None}


def counts(conn: sa.Connection) -> dict[str, int]:
    found = dict(
        conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)).all()
    )
    return {s: int(found.get(s, 0)) for s in STATUSES}


def get(conn: sa.Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute(sa.select(outbox).where(outbox.c.id == job_id)).first()
    if row is None:
        raise JobNotFound(f"there is no job {job_id}")
    runs = conn.execute(
        sa.select(job_run).where(job_run.c.job_id == job_id).order_by(job_run.c.id)
    ).all()
    return {
        **summary(row),
        "payload": mask(store.read_payload(row.payload)) if row.payload else None,
        "runs": [
            {
                "id": r.id,
                "attempt": r.attempt,
                "worker": r.worker,
                "transport": r.transport,
                "startedAt": _iso(r.started_at),
                "finishedAt": _iso(r.finished_at),
                "outcome": r.outcome,
                "error": r.error,
                "steps": _loads(r.steps),
            }
            for r in runs
        ],
    }


def retry(conn: sa.Connection, job_id: int) -> dict[str, Any]:
    """Deliver again now, with a fresh count of attempts."""
    res = conn.execute(
        outbox.update()
        .where(outbox.c.id == job_id, outbox.c.status.in_(RETRYABLE))
        .values(status="pending", attempts=0, available_at=utcnow(), last_error=None)
    )
    if res.rowcount == 0:
        _refuse(conn, job_id, "retried", RETRYABLE)
    return get(conn, job_id)


def discard(conn: sa.Connection, job_id: int) -> dict[str, Any]:
    """Never deliver this message (it stays listed as ``discarded``)."""
    res = conn.execute(
        outbox.update()
        .where(outbox.c.id == job_id, outbox.c.status.in_(DISCARDABLE))
        .values(status="discarded", dispatched_at=utcnow())
    )
    if res.rowcount == 0:
        _refuse(conn, job_id, "discarded", DISCARDABLE)
    return get(conn, job_id)


def _refuse(conn: sa.Connection, job_id: int, what: str, allowed: tuple[str, ...]) -> None:
    status = conn.execute(sa.select(outbox.c.status).where(outbox.c.id == job_id)).scalar()
    if status is None:
        raise JobNotFound(f"there is no job {job_id}")
    raise JobStateConflict(
        f"job {job_id} is {status}; only a job that is {' or '.join(allowed)} can be {what}"
    )


def summary(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "topic": row.topic,
        "key": row.idempotency_key,
        "entity": row.entity,
        "recordId": row.record_id,
        "status": row.status,
        "attempts": row.attempts,
        "createdAt": _iso(row.created_at),
        "availableAt": _iso(row.available_at),
        "dispatchedAt": _iso(row.dispatched_at),
        "lastError": row.last_error,
    }


def mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "***" if _secret(k) and v not in (None, "") else mask(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _secret(key: str) -> bool:
    k = key.lower().replace("-", "_")
    return any(s in k for s in SECRET_KEYS)


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value is not None else None
