"""Updating one record: the write path's steps for a change to a stored record.

Read the stored row (or take the caller's), compare its ``row_version``, let a write of a
workflow state field fire the transition that leads there, then field rights and validation
of the changed fields (:func:`prepare_update`, shared with the set-based
:mod:`.bulkupdate`), the rules step, reference and uniqueness checks, ``before`` hooks, one
compare-and-swap UPDATE, the many-to-many links, the journal (audit entry and outbox message),
the workflow step after the SQL and ``after`` hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ...metadata.store import utcnow
from ..context import Actor
from ..security.access import Access
from . import checks, journal, links, reading, rows
from .errors import RecordInvalid, RecordNotFound, RecordVersionMismatch
from .events import RecordEvent
from .hooks import run_hook

if TYPE_CHECKING:
    from .service import RecordService


def update(
    service: RecordService,
    conn: sa.Connection,
    actor: Actor,
    entity: str,
    record_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    *,
    access: Access | None = None,
    lenient: bool = False,
    workflow: Any = None,
    stored_row: Mapping[str, Any] | None = None,
    stored_record: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Update one record with ``data`` (client values of the changed fields); returns it as
    the actor may see it. ``expected_version``: the ``row_version`` the caller read (None:
    any); another raises :class:`RecordVersionMismatch`.

    ``workflow`` (a :class:`xrm.core.workflows.writestep.WorkflowWrite`) marks a write
    made by the workflow engine: a transition, or an automation's ``setFields``.
    ``stored_row``: the record's row as the caller read it in this transaction, live and in
    ``access``'s scope (the workflow engine's, to not read it twice); the UPDATE's
    compare-and-swap on its ``row_version`` refuses the write if it changed since.
    ``stored_record``: that row as a whole record (every field, as ``reading.record_of``
    without access gives it), when the caller has it already."""
    access = access or service.access(conn, actor)
    access.require(entity, "update")
    snap = service.registry.snapshot(conn)
    ce = snap.entity(entity)
    stored = stored_row
    if stored is None or stored["id"] != record_id:
        stored = reading.fetch_row(conn, ce, record_id, access)
    if stored is None:
        raise RecordNotFound(f"{entity} {record_id} does not exist")
    current = stored["row_version"]
    if expected_version is not None and current != expected_version:
        raise RecordVersionMismatch(
            f"{entity} {record_id} was changed by someone else (version {current}, you had {expected_version})"
        )
    if stored_record is not None and stored is stored_row:
        full_before = dict(stored_record)
    else:
        full_before = reading.record_of(conn, snap, ce, stored, None)  # the audit compares all
    if workflow is None and service.workflows is not None:
        # A client writing a state field asks for the transition that leads there: it is
        # fired, with its roles, guard, approvals and required fields (writestep.state_move).
        move = service.rules.state_move(conn, snap, ce, full_before, data)
        if move is not None:
            return service.workflows.fire_for_write(
                conn,
                actor,
                entity,
                record_id,
                move,
                data,
                if_match=expected_version,
                access=access,
                lenient=lenient,
            )
    # The stored record as read (hooks may see ``full_before`` itself), for the one after.
    pristine = None if ce.associations else dict(full_before)
    before = (
        reading.record_of(conn, snap, ce, stored, access)
        if ce.associations
        else reading.visible(access, ce, full_before)
    )
    values = prepare_update(ce, access, before, data, lenient)
    service.rules.before_update(conn, snap, ce, actor, full_before, values, workflow)
    prepared, results = {0: values}, [None]
    checks.check_relations(
        conn, snap, ce, prepared, results, current=[stored], record_ids=[record_id]
    )
    if results[0] is not None:
        raise results[0]
    event = RecordEvent(
        entity, "update", actor, conn, service, record_id=record_id, values=values, before=before
    )
    run_hook(service.hooks, "xrm_before_update", event)
    row = rows.to_row(ce, values)  # association fields left out
    if "owner_id" in data and actor.is_admin:
        row["owner_id"] = data["owner_id"]
    row.update(updated_at=utcnow(), updated_by=actor.user_id, row_version=current + 1)
    changed = rows.prepared_update(ce.table).run(
        conn, {**row, "_xrm_id": record_id, "_xrm_version": current}
    )
    if changed != 1:
        raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
    links.replace_links(conn, snap, ce, record_id, values, access)
    # The stored row is the row read before with what this update wrote (no re-read);
    # only the fields it wrote are dumped again.
    if pristine is None:
        after = reading.record_of(conn, snap, ce, {**stored, **row}, None)
    else:
        after = rows.redumper(ce)(pristine, {**stored, **row}, row)
    note = workflow.audit_note() if workflow is not None else None
    journal.record_write(
        conn,
        actor,
        ce,
        "update",
        record_id,
        full_before,
        after,
        extra={"workflow": note} if note else None,
    )
    if service.rules.after_write(
        conn, snap, ce, actor, "update", record_id, full_before, after, workflow
    ):
        after = reading.fetch(conn, snap, ce, record_id, None)  # an automation changed it
    event.after = after
    run_hook(service.hooks, "xrm_after_update", event)
    if ce.associations and not access.unrestricted:
        # Links to records the writer cannot see are kept, and not shown to them.
        return reading.fetch(conn, snap, ce, record_id, access) or {}
    return reading.visible(access, ce, after)


def prepare_update(
    ce: CompiledEntity,
    access: Access,
    before: Mapping[str, Any],
    data: Mapping[str, Any],
    lenient: bool,
) -> dict[str, Any]:
    """The per-record steps of an update that need no other record: field rights and
    validation of the changed fields. Returns the values to write; raises the
    :class:`RecordError` that refuses the change. The counterpart of
    :func:`.creating.prepare_create`: a step applying to each changed record belongs here."""
    checks.check_field_rights(ce, access, data)
    values, problems = ce.validate(data, partial=True, lenient=lenient)
    if problems:
        raise RecordInvalid(
            f"{ce.name}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
        )
    checks.refuse_maintained_fields(ce, access, values, before)
    return values
