"""Deleting, restoring and purging records: the write path's steps around the recycle bin.

A delete takes the record's permission, scope and version check, the ``before`` hooks, the
on-delete rules of the references to it (cleared references are updates through the write
path), moves the records to the recycle bin (:mod:`.recyclebin`), journals each of them, runs
the workflow step and the ``after`` hooks. Restoring and purging a batch of the recycle bin are
for administrators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..context import Actor
from ..security.access import Access, AccessDenied
from . import journal, reading, recyclebin
from .errors import RecordNotFound, RecordVersionMismatch
from .events import RecordEvent
from .hooks import run_hook

if TYPE_CHECKING:
    from .service import RecordService


def delete(
    service: RecordService,
    conn: sa.Connection,
    actor: Actor,
    entity: str,
    record_id: int,
    expected_version: int | None = None,
    *,
    access: Access | None = None,
) -> None:
    """Move the record (and what it cascades to) to the recycle bin."""
    access = access or service.access(conn, actor)
    access.require(entity, "delete")
    snap = service.registry.snapshot(conn)
    ce = snap.entity(entity)
    before = reading.fetch(conn, snap, ce, record_id, access)
    if before is None:
        raise RecordNotFound(f"{entity} {record_id} does not exist")
    if expected_version is not None and before["row_version"] != expected_version:
        raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
    event = RecordEvent(entity, "delete", actor, conn, service, record_id=record_id, before=before)
    run_hook(service.hooks, "xrm_before_delete", event)
    deletion = recyclebin.plan_deletion(conn, snap, entity, record_id)
    for other, fname, ids in deletion.clear:
        for child in ids:
            service.update(
                conn,
                actor,
                other,
                child,
                {fname: None},
                access=Access(actor=_system_like(actor)),
            )
    recyclebin.mark_deleted(conn, snap, deletion, actor.user_id)
    for name, rid in deletion.records:
        other = snap.entity(name)
        journal.record_write(
            conn, actor, other, "delete", rid, None, None, extra={"batch": deletion.batch}
        )
    service.rules.after_delete(conn, snap, actor, list(deletion.records))
    run_hook(service.hooks, "xrm_after_delete", event)


def restore(
    service: RecordService, conn: sa.Connection, actor: Actor, entity: str, record_id: int
) -> dict[str, Any]:
    """Bring a record back from the recycle bin, with everything deleted together with it."""
    if not actor.is_admin:
        raise AccessDenied("only administrators may restore records from the recycle bin")
    snap = service.registry.snapshot(conn)
    batch = recyclebin.batch_of(conn, entity, record_id)
    recyclebin.restore_rows(conn, snap, batch)
    for name, rid in batch:
        ce = snap.entity(name)
        after = reading.fetch(conn, snap, ce, rid, None)
        journal.record_write(conn, actor, ce, "restore", rid, None, after)
    service.rules.after_restore(conn, snap, actor, list(batch))
    return reading.fetch(conn, snap, snap.entity(entity), record_id, None)


def purge(
    service: RecordService, conn: sa.Connection, actor: Actor, entity: str, record_id: int
) -> int:
    """Delete a record in the recycle bin (and its batch) for good."""
    if not actor.is_admin:
        raise AccessDenied("only administrators may purge the recycle bin")
    snap = service.registry.snapshot(conn)
    return recyclebin.purge_rows(conn, snap, recyclebin.batch_of(conn, entity, record_id))


def _system_like(actor: Actor) -> Actor:
    """The same actor with rights to apply the reference rules of a delete it may do."""
    return Actor(user_id=actor.user_id, username=actor.username, roles=actor.roles, is_admin=True)
