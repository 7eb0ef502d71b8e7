"""Create many records at once: the write half of :meth:`RecordService.create`, batched.

:meth:`RecordService.create` writes one record with about eight statements (insert, re-read,
links, audit, outbox, counters...). An import of 100,000 rows cannot afford that, so this module
runs the same steps, in the same order, for a whole batch: generated values and plugin
``before`` hooks per record, then one multi-row INSERT for the records, one for their
many-to-many links, one for their audit entries and one for their outbox messages, then the
plugin ``after`` hooks. What a record looks like afterwards (in the audit entry, the outbox
message and the hook event) is built from the values written rather than read back.

The caller has already done the checking half (permission, field rights, validation, references,
uniqueness: :mod:`.planning`, batched too). This is meant to move into the record service as
``create_many`` so that it cannot drift from ``create``; until then it calls the service's own
steps wherever they work per record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ...metadata.store import utcnow
from ..context import Actor
from ..records import audit
from ..records.errors import RecordError
from ..records.events import RecordEvent
from ..records.service import RecordService
from ..security.access import Access
from ..tables import audit as audit_table
from ..tables import outbox as outbox_table
from . import storage

#: ``json.dumps(value, default=str)``, as the service encodes audit changes and outbox payloads.
_encode = json.JSONEncoder(default=str).encode


def create_many(
    service: RecordService,
    conn: sa.Connection,
    actor: Actor,
    access: Access,
    ce: CompiledEntity,
    items: Sequence[dict[str, Any]],
) -> list[int | RecordError]:
    """Insert records whose ``items`` (field -> coerced value, defaults applied) have passed
    the service's checks. Returns, per item, the new record's id, or the error with which a
    plugin ``before`` hook refused it. An ``after`` hook's error is raised: the caller rolls
    the batch back (records of a batch are written together)."""
    access.require(ce.name, "create")
    now = utcnow()
    results: list[int | RecordError] = [0] * len(items)
    generates = any(cf.spec.type in ("uuid", "autonumber") for cf in ce.fields.values())
    hooked = service.hooks is not None
    accepted: list[tuple[int, dict[str, Any], RecordEvent | None]] = []
    for i, values in enumerate(items):
        event = None
        try:
            if generates:
                service._generate(conn, ce, values, now)
            if hooked:
                event = RecordEvent(ce.name, "create", actor, conn, service, values=values)
                service._hook("xrm_before_create", event)
                values = event.values
        except RecordError as exc:
            results[i] = exc
            continue
        accepted.append((i, values, event))
    if not accepted:
        return results

    system = {
        "created_at": now,
        "updated_at": now,
        "created_by": actor.user_id,
        "updated_by": actor.user_id,
        "owner_id": actor.user_id if ce.definition.ownership == "user" else None,
        "row_version": 1,
    }
    # One INSERT for many rows needs the same columns in every row: a field not given is NULL.
    blank = dict.fromkeys(c for cf in ce.fields.values() for c in cf.columns)
    rows = []
    for _i, values, _event in accepted:
        row = dict(blank)
        row.update(storage.to_row(ce, values))
        rows.append(row)
    ids = storage.insert_returning_ids(conn, ce.table, rows, system)
    links = _write_links(conn, ce, ids, [values for _, values, _ in accepted])

    fields = [*ce.fields]
    dump = storage.dumper(ce)
    dumped_system = dump({"id": 0, **system})
    dumped_system = {k: dumped_system[k] for k in system}
    entity_json, actor_json = json.dumps(ce.name), json.dumps(actor.username)
    audit_rows, outbox_rows = [], []
    for (i, _values, event), record_id, row in zip(accepted, ids, rows, strict=True):
        row["id"] = record_id
        after = dump(row, dumped_system)
        for fname in ce.associations:
            after[fname] = links.get((fname, record_id), [])
        changes = _encode(audit.diff(None, after, fields))
        if ce.definition.audit:
            audit_rows.append({"record_id": record_id, "changes": changes})
        outbox_rows.append(
            {
                "record_id": record_id,
                # The service's payload, key for key: {"entity", "id", "action", "record",
                # "changes", "actor"}, with the changes encoded once for both tables.
                "payload": f'{{"entity": {entity_json}, "id": {record_id}, '
                f'"action": "create", "record": {_encode(after)}, '
                f'"changes": {changes}, "actor": {actor_json}}}',
                "idempotency_key": f"{ce.name}:{record_id}:create:1"[:120],
            }
        )
        if event is not None:
            event.record_id, event.after = record_id, after
        results[i] = record_id
    if audit_rows:
        storage.insert_many(
            conn,
            audit_table,
            audit_rows,
            {
                "entity": ce.name,
                "action": "create",
                "actor_id": actor.user_id,
                "actor_name": actor.username,
                "at": now,
            },
        )
    storage.insert_many(
        conn,
        outbox_table,
        outbox_rows,
        {"topic": "record.created", "entity": ce.name, "created_at": now, "available_at": now},
    )
    if hooked:
        for _i, _values, event in accepted:
            service._hook("xrm_after_create", event)
    return results


def _write_links(
    conn: sa.Connection,
    ce: CompiledEntity,
    ids: Sequence[int],
    values: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, int], list[int]]:
    out: dict[tuple[str, int], list[int]] = {}
    for fname, assoc in ce.associations.items():
        pairs = []
        for record_id, vals in zip(ids, values, strict=True):
            targets = vals.get(fname) or []
            pairs.extend({"source_id": record_id, "target_id": target} for target in targets)
            out[(fname, record_id)] = sorted(targets)
        if pairs:
            conn.execute(assoc.insert(), pairs)
    return out
