"""The transactional outbox: a message per change, written in the change's own transaction, so
nothing is lost when the process dies between commit and dispatch. Dispatch (in-process or
Celery workers) reads pending rows; the idempotency key makes a second delivery detectable."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from ...metadata.statements import Prepared
from ...metadata.store import utcnow
from ..tables import outbox
from .audit import encode


def enqueue(
    conn: sa.Connection,
    topic: str,
    key: str,
    payload: dict[str, Any],
    entity: str | None = None,
    record_id: int | None = None,
) -> None:
    now = utcnow()
    _INSERT.run(
        conn,
        {
            "topic": topic,
            "entity": entity,
            "record_id": record_id,
            "payload": encode(payload),
            "idempotency_key": key[:120],
            "created_at": now,
            "available_at": now,
        },
    )


_INSERT = Prepared(outbox.insert())


def pending(conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(outbox).where(outbox.c.status == "pending").order_by(outbox.c.id).limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "topic": r.topic,
            "key": r.idempotency_key,
            "entity": r.entity,
            "record_id": r.record_id,
            "payload": json.loads(r.payload),
        }
        for r in rows
    ]
