"""The audit trail: every write, with each field's old and new value (as JSON)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from ...metadata.statements import Prepared
from ...metadata.store import utcnow
from ..context import Actor
from ..tables import audit


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, fields: Iterable[str]
) -> dict[str, list]:
    """{field: [old, new]} for the fields whose JSON value changed."""
    out = {}
    for f in fields:
        old = before.get(f) if before else None
        new = after.get(f) if after else None
        if old != new:
            out[f] = [old, new]
    return out


def write(
    conn: sa.Connection,
    actor: Actor,
    entity: str,
    record_id: int,
    action: str,
    changes: Mapping[str, list],
) -> None:
    _INSERT.run(
        conn,
        {
            "entity": entity,
            "record_id": record_id,
            "action": action,
            "actor_id": actor.user_id,
            "actor_name": actor.username,
            "at": utcnow(),
            "changes": encode(changes),
        },
    )


_INSERT = Prepared(audit.insert())
#: The JSON text of audit changes and outbox payloads (one-record writes): json.dumps(value,
#: default=str), without building an encoder per call. Batched creates use a faster compact
#: encoder of the same values (``batch._encode``).
encode = json.JSONEncoder(default=str).encode


def history(
    conn: sa.Connection,
    entity: str,
    record_id: int,
    hidden: set[str] = frozenset(),
    limit: int = 200,
) -> list[dict]:
    """Newest first. Fields the reader may not see are left out of every entry."""
    rows = conn.execute(
        sa.select(audit)
        .where(audit.c.entity == entity, audit.c.record_id == record_id)
        .order_by(audit.c.id.desc())
        .limit(limit)
    ).all()
    out = []
    for r in rows:
        stored = json.loads(r.changes)
        changes = {k: v for k, v in stored.items() if k not in hidden}
        # Workflow notes (a transition's name and comment, an approval) are kept with the
        # changes under "$" keys and shown beside them.
        notes = {k[1:]: changes.pop(k) for k in [k for k in changes if k.startswith("$")]}
        if r.action == "update" and stored and not changes and not notes:
            continue  # it changed only fields the reader may not see: not even that it happened
        entry = {
            "id": r.id,
            "action": r.action,
            "at": r.at.isoformat() + "Z",
            "actor": {"id": r.actor_id, "username": r.actor_name},
            "changes": {k: {"old": v[0], "new": v[1]} for k, v in changes.items()},
        }
        if notes.get("workflow"):
            note = notes["workflow"]
            # What wrote it: a transition, a roll-up, a workflow's state mapping or an
            # automation (a timer's or a rule's setFields).
            kind = next((k for k in ("rollup", "stateMapping") if k in note), None)
            if kind is not None:
                entry[kind] = note[kind]
            else:
                entry["transition" if "name" in note else "automation"] = note
        if notes.get("approval"):
            entry["approval"] = notes["approval"]
        out.append(entry)
    return out


def purge_older_than(conn: sa.Connection, days: int, now: dt.datetime | None = None) -> int:
    """Retention: delete audit entries older than ``days`` days (before ``now``, naive UTC;
    default: the current time). Returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    return conn.execute(audit.delete().where(audit.c.at < cutoff)).rowcount


#: Seconds between two runs of the retention job.
RETENTION_EVERY_SECONDS = 3600


def register_retention(jobs: Any, days: int) -> None:
    """The periodic job ``audit.retention`` on ``jobs`` (a :class:`xrm.core.jobs.JobRegistry`):
    hourly, it deletes the audit entries older than ``days`` days."""

    @jobs.periodic("audit.retention", every_seconds=RETENTION_EVERY_SECONDS)
    def _retention(ctx, job):
        now = ctx.now.astimezone(dt.UTC).replace(tzinfo=None) if ctx.now.tzinfo else ctx.now
        with ctx.engine.begin() as conn:
            deleted = purge_older_than(conn, days, now)
        ctx.step(f"deleted {deleted} audit entries older than {days} days")
        return {"deleted": deleted, "days": days}
