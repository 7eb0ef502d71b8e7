"""A write's journal: its audit entry and its outbox message, written in the write's own
transaction. Every write of a record has both: the record service's (create, update, delete,
restore) and the engine's own writes that are not a user's (a roll-up recomputed, records moved
by a workflow's state mapping), so the history and the changes feed miss nothing."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ..context import Actor
from . import audit, outbox


def record_write(
    conn: sa.Connection,
    actor: Actor,
    ce: CompiledEntity,
    action: str,
    record_id: int,
    before: dict | None,
    after: dict | None,
    extra: dict | None = None,
) -> None:
    """``before``/``after``: the whole record (JSON values) around the write; ``extra`` goes
    into the outbox payload, its ``workflow`` note also into the audit entry (shown by the
    history beside the changes)."""
    changes = audit.diff(before, after, ce.fields) if action in ("create", "update") else {}
    if ce.definition.audit:
        note = (extra or {}).get("workflow")
        audit.write(
            conn,
            actor,
            ce.name,
            record_id,
            action,
            {**changes, "$workflow": note} if note else changes,
        )
    version = (after or {}).get("row_version")
    key = f"{ce.name}:{record_id}:{action}:{version if version is not None else uuid.uuid4()}"
    payload: dict[str, Any] = {
        "entity": ce.name,
        "id": record_id,
        "action": action,
        "record": after,
        "changes": changes,
        "actor": actor.username,
        **(extra or {}),
    }
    outbox.enqueue(conn, f"record.{action}d", key, payload, ce.name, record_id)
