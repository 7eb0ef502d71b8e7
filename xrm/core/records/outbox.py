"""The transactional outbox: a message per change, written in the change's own transaction, so
nothing is lost when the process dies between commit and dispatch. Dispatch (in-process or
Celery workers) reads pending rows; the idempotency key makes a second delivery detectable."""

from __future__ import annotations

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
