"""The SQL half of creating records, for a batch: set-based statements instead of a few per
record.

One multi-row INSERT (an ``executemany`` of one compiled statement) for the records, one for
their many-to-many links, one for their audit entries and one for their outbox messages. What
a record looks like afterwards (in the audit entry, the outbox message, the hook event and the
answer) is built from the values written rather than read back. A single record is a batch of
one: :meth:`RecordService.create` writes through here too, so the two cannot drift.

Everything before the SQL (permission, validation, checks, generated values, ``before`` hooks)
is the record service's; this module only writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ..context import Actor
from ..tables import audit as audit_table
from ..tables import outbox as outbox_table
from . import audit, rows

#: ``json.dumps(value, default=str)``, as the service encodes audit changes and outbox payloads.
_encode = json.JSONEncoder(default=str).encode


@dataclass(slots=True)
class NewRecord:
    """One record of a batch, ready to write: ``values`` (field -> coerced value, defaults and
    generated values included) and its owner."""

    values: dict[str, Any]
    owner_id: int | None


def insert_records(
    conn: sa.Connection,
    actor: Actor,
    ce: CompiledEntity,
    new: Sequence[NewRecord],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """INSERT the records with their links, audit entries and outbox messages. Returns each
    record as stored (its JSON form, every field)."""
    user_owned = ce.definition.ownership == "user"
    system = {
        "created_at": now,
        "updated_at": now,
        "created_by": actor.user_id,
        "updated_by": actor.user_id,
        "row_version": 1,
    }
    # One INSERT for many rows needs the same columns in every row: a field not given is NULL.
    blank = dict.fromkeys(c for cf in ce.fields.values() for c in cf.columns)
    table_rows = []
    for item in new:
        row = dict(blank)
        row.update(rows.to_row(ce, item.values))
        row["owner_id"] = item.owner_id if user_owned else None
        table_rows.append(row)
    ids = rows.insert_returning_ids(conn, ce.table, table_rows, system)
    links = _write_links(conn, ce, ids, [item.values for item in new])

    fields = [*ce.fields]
    dump = rows.dumper(ce)
    dumped = dump({"id": 0, **system})
    dumped_system = {k: dumped[k] for k in system}
    entity_json, actor_json = json.dumps(ce.name), json.dumps(actor.username)
    records, audit_rows, outbox_rows = [], [], []
    for record_id, row in zip(ids, table_rows, strict=True):
        row["id"] = record_id
        after = dump(row, {**dumped_system, "owner_id": row["owner_id"]})
        for fname in ce.associations:
            after[fname] = links.get((fname, record_id), [])
        records.append(after)
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
    if audit_rows:
        rows.insert_many(
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
    rows.insert_many(
        conn,
        outbox_table,
        outbox_rows,
        {"topic": "record.created", "entity": ce.name, "created_at": now, "available_at": now},
    )
    return records


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
            targets = sorted(set(vals.get(fname) or []))
            pairs.extend({"source_id": record_id, "target_id": target} for target in targets)
            out[(fname, record_id)] = targets
        if pairs:
            conn.execute(assoc.insert(), pairs)
    return out
