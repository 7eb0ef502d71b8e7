"""The in-app inbox: notifications per user (written by ``action.notify``), read by their user.

Each read returns the caller's own items only; paging is keyset on the id, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..tables import notification
from .store import utcnow

MAX_PAGE = 200


def add(
    conn: sa.Connection,
    user_ids: Iterable[int],
    *,
    subject: str,
    body: str | None = None,
    link: str | None = None,
    entity: str | None = None,
    record_id: int | None = None,
    source_key: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Add one notification per user; with a ``source_key``, a user who already has the
    notification of that key gets no second one. Returns how many were added."""
    rows = [
        {
            "user_id": uid,
            "subject": subject[:255],
            "body": body,
            "link": link,
            "entity": entity,
            "record_id": record_id,
            "source_key": source_key[:120] if source_key else None,
            "created_at": now or utcnow(),
        }
        for uid in dict.fromkeys(user_ids)
    ]
    if not rows:
        return 0
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name]
    stmt = insert(notification).values(rows).on_conflict_do_nothing()
    return len(conn.execute(stmt.returning(notification.c.id)).all())


def page(
    conn: sa.Connection,
    user_id: int,
    *,
    unread: bool = False,
    limit: int = 50,
    before: int | None = None,
) -> dict[str, Any]:
    """The user's notifications, newest first: ``{"items", "next", "unread"}`` where ``next``
    is the ``before`` of the following page (None at the end)."""
    t = notification
    limit = max(1, min(limit, MAX_PAGE))
    where = [t.c.user_id == user_id]
    if unread:
        where.append(t.c.read_at.is_(None))
    if before is not None:
        where.append(t.c.id < before)
    rows = conn.execute(sa.select(t).where(*where).order_by(t.c.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    count = conn.execute(
        sa.select(sa.func.count()).where(t.c.user_id == user_id, t.c.read_at.is_(None))
    ).scalar_one()
    return {
        "items": [as_dict(r) for r in rows],
        "next": rows[-1].id if more and rows else None,
        "unread": count,
    }


def mark_read(conn: sa.Connection, user_id: int, notification_id: int) -> dict[str, Any] | None:
    """Mark one of the user's notifications read; None when the user has no such item."""
    t = notification
    conn.execute(
        t.update()
        .where(t.c.id == notification_id, t.c.user_id == user_id, t.c.read_at.is_(None))
        .values(read_at=utcnow())
    )
    row = conn.execute(
        sa.select(t).where(t.c.id == notification_id, t.c.user_id == user_id)
    ).first()
    return as_dict(row) if row is not None else None


def mark_all_read(conn: sa.Connection, user_id: int) -> int:
    t = notification
    res = conn.execute(
        t.update().where(t.c.user_id == user_id, t.c.read_at.is_(None)).values(read_at=utcnow())
    )
    return res.rowcount


def as_dict(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "subject": row.subject,
        "body": row.body,
        "link": row.link,
        "entity": row.entity,
        "recordId": row.record_id,
        "createdAt": _iso(row.created_at),
        "readAt": _iso(row.read_at),
        "read": row.read_at is not None,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None
