"""Updating many records set-based: :func:`update_many` takes a batch through the steps of
:func:`.updating.update` with a few statements for any number of records, after
:func:`prefetch_rows`, the one SELECT of the batch's rows. A batch that cannot go set-based is
left to :func:`.updating.update`, one record at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...metadata.database import rolled_back_on_error
from ...metadata.store import utcnow
from ..context import Actor
from ..security.access import Access
from ..tables import audit as audit_table
from ..tables import outbox as outbox_table
from . import audit, checks, reading, rows
from .errors import RecordError, RecordNotFound, RecordVersionMismatch
from .events import RecordEvent
from .hooks import run_hook, side_effects
from .updating import prepare_update

if TYPE_CHECKING:
    from .service import RecordService


def update_many(
    service: RecordService,
    conn: sa.Connection,
    actor: Actor,
    entity: str,
    items: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    access: Access | None = None,
    atomic: bool = True,
    lenient: bool = False,
    expected: Sequence[int | None] | None = None,
) -> list[dict[str, Any] | RecordError] | None:
    """Update many records (``(id, changes)`` pairs, client values as for
    :meth:`RecordService.update`), set-based: one SELECT of their rows, the steps of
    :meth:`~RecordService.update` per record (field rights, validation, the rules step,
    ``before`` hooks), reference and uniqueness checks batched, then one ``executemany`` UPDATE
    (compare-and-swap on each ``row_version``) per set of columns written, and one INSERT each
    for the audit entries and the outbox messages; then the ``after`` steps per record.

    Returns, per item and in order, the stored record (as the actor may see it) or the
    :class:`RecordError` that refused it; ``atomic``: nothing is written if any is refused.
    ``lenient`` as for :meth:`~RecordService.update`; ``expected``: per item, the
    ``row_version`` the caller read (None: any), as ``expected_version`` of
    :meth:`~RecordService.update`. Returns None, having written nothing, when the batch must go
    record by record through :meth:`~RecordService.update`: a record twice, many-to-many
    fields, an actor without the update right (each record is refused on its own), anything
    that can write other records meanwhile (plugin update hooks, workflows, rules, roll-ups,
    automations; see :func:`prefetch_rows`), or - not atomic - a record changed by someone else
    meanwhile."""
    access = access or service.access(conn, actor)
    snap = service.registry.snapshot(conn)
    ce = snap.entity(entity)
    ids = [rid for rid, _data in items]
    if (
        not items
        or len(set(ids)) != len(ids)
        or ce.associations
        or not access.can(entity, "update")
        or side_effects(service.hooks, service.rules, conn, snap, ce)
    ):
        return None
    stored = prefetch_rows(service, conn, actor, entity, ids, access)
    results: list[Any] = [None] * len(items)
    prepared: dict[int, dict[str, Any]] = {}
    dump = rows.dumper(ce)
    befores: dict[int, dict[str, Any]] = {}
    for i, (rid, data) in enumerate(items):
        try:
            row = stored.get(rid)
            if row is None:
                raise RecordNotFound(f"{entity} {rid} does not exist")
            version = expected[i] if expected else None
            if version is not None and row["row_version"] != version:
                raise RecordVersionMismatch(
                    f"{entity} {rid} was changed by someone else (version "
                    f"{row['row_version']}, you had {version})"
                )
            full_before = befores[i] = dump(row)
            before = reading.visible(access, ce, full_before)
            values = prepare_update(ce, access, before, data, lenient)
            service.rules.before_update(conn, snap, ce, actor, full_before, values, None)
        except RecordError as exc:
            results[i] = exc
            continue
        prepared[i] = values
    checks.check_relations(
        conn,
        snap,
        ce,
        prepared,
        results,
        current=[stored.get(rid) for rid in ids],
        record_ids=ids,
    )
    if not prepared or (atomic and any(r is not None for r in results)):
        return results
    events: dict[int, RecordEvent] = {}
    for i in list(prepared):
        rid = ids[i]
        before = reading.visible(access, ce, befores[i])
        event = RecordEvent(
            entity,
            "update",
            actor,
            conn,
            service,
            record_id=rid,
            values=prepared[i],
            before=before,
        )
        try:
            run_hook(service.hooks, "xrm_before_update", event)
        except RecordError as exc:
            results[i] = exc
            del prepared[i]
            continue
        events[i] = event
    if not prepared or (atomic and any(r is not None for r in results)):
        return results
    now = utcnow()
    savepoint = None if atomic else conn.begin_nested()
    with rolled_back_on_error(savepoint):
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        written: dict[int, dict[str, Any]] = {}
        for i, values in prepared.items():
            rid, data = items[i]
            row = rows.to_row(ce, values)
            if "owner_id" in data and actor.is_admin:
                row["owner_id"] = data["owner_id"]
            row.update(
                updated_at=now, updated_by=actor.user_id, row_version=stored[rid]["row_version"] + 1
            )
            written[i] = row
            groups.setdefault(tuple(sorted(row)), []).append(
                {**row, "_xrm_id": rid, "_xrm_version": stored[rid]["row_version"]}
            )
        statement = rows.update_statement(ce.table)
        changed = sum(conn.execute(statement, params).rowcount for params in groups.values())
        if changed != len(prepared):
            if savepoint is None:
                raise RecordVersionMismatch(
                    f"{entity}: a record of the batch was changed by someone else meanwhile; "
                    "nothing was changed"
                )
            savepoint.rollback()
            return None
        fields = [*ce.fields]
        audit_rows, outbox_rows, afters = [], [], {}
        for i, row in written.items():
            rid = ids[i]
            after = afters[i] = dump({**stored[rid], **row})
            changes = audit.diff(befores[i], after, fields)
            if ce.definition.audit:
                audit_rows.append({"record_id": rid, "changes": audit.encode(changes)})
            payload = {
                "entity": ce.name,
                "id": rid,
                "action": "update",
                "record": after,
                "changes": changes,
                "actor": actor.username,
            }
            outbox_rows.append(
                {
                    "record_id": rid,
                    "payload": audit.encode(payload),
                    "idempotency_key": f"{ce.name}:{rid}:update:{row['row_version']}"[:120],
                }
            )
        if audit_rows:
            rows.insert_many(
                conn,
                audit_table,
                audit_rows,
                {
                    "entity": ce.name,
                    "action": "update",
                    "actor_id": actor.user_id,
                    "actor_name": actor.username,
                    "at": now,
                },
            )
        rows.insert_many(
            conn,
            outbox_table,
            outbox_rows,
            {"topic": "record.updated", "entity": ce.name, "created_at": now, "available_at": now},
        )
        for i, after in afters.items():
            rid = ids[i]
            if service.rules.after_write(conn, snap, ce, actor, "update", rid, befores[i], after):
                after = reading.fetch(conn, snap, ce, rid, None)  # an automation changed it
            events[i].after = after
            run_hook(service.hooks, "xrm_after_update", events[i])
            results[i] = reading.visible(access, ce, after)
        if savepoint is not None:
            savepoint.commit()
        return results


def prefetch_rows(
    service: RecordService,
    conn: sa.Connection,
    actor: Actor,
    entity: str,
    record_ids: Sequence[int],
    access: Access,
) -> dict[int, Mapping[str, Any]]:
    """The rows of the records a bulk update is about to write, live and in ``access``'s
    scope, in one query (id -> row), to hand to :meth:`RecordService.update` as
    ``stored_row``: each record of the batch then costs no SELECT of its own. The caller uses a
    row at most once (a second update of the same record must read what the first wrote).

    Empty when writing one record can change another behind the caller's back: plugin
    hooks on updates, or workflows, rules, roll-ups or automations on the entity (their
    writes would make a prefetched row stale, and the update refuse it as changed by
    someone else). Those batches read each record as it is written."""
    if not record_ids or not access.can(entity, "update"):
        return {}  # the updates themselves say what is refused
    snap = service.registry.snapshot(conn)
    ce = snap.entity(entity)
    if side_effects(service.hooks, service.rules, conn, snap, ce):
        return {}
    t = ce.table
    found: dict[int, Mapping[str, Any]] = {}
    ids = sorted(set(record_ids))
    for i in range(0, len(ids), 500):
        q = sa.select(t).where(*reading.scoped(ce, access, t.c.id.in_(ids[i : i + 500])))
        found.update((row["id"], row) for row in conn.execute(q).mappings())
    return found
