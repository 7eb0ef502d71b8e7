"""The SQL half of creating records, for a batch: set-based statements instead of a few per
record.

One multi-row INSERT (an ``executemany`` of one compiled statement) for the records, one for
their many-to-many links, one for their audit entries and one for their outbox messages. What
a record looks like afterwards (in the audit entry, the outbox message, the hook event and the
answer) is built from the values written rather than read back. A single record is a batch of
one: :meth:`RecordService.create` writes through here too, so the two cannot drift.

The per-record work is what an import of 100,000 rows spends most of its time on, so the
entity's :class:`_Layout` (made once per table and database dialect) holds everything that does
not change between records: the statements, each column's value conversion, which fields are
stored as they are shown. Each record then costs one tuple per table, its JSON record and one
JSON encoding each of the record and of its changes (the audit entry's text is reused in the
outbox payload).

Everything before the SQL (permission, validation, checks, generated values, ``before`` hooks)
is the record service's; this module only writes.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ..context import Actor
from ..tables import audit as audit_table
from ..tables import outbox as outbox_table
from . import rows
from .inserts import binder, prepared

#: ``json.dumps(value, default=str)``, as the service encodes audit changes and outbox
#: payloads: the C encoder made once (``json.dumps`` builds a new one on every call) without
#: the check for circular references, which a record's values cannot hold.
try:
    from json.encoder import c_make_encoder

    _c_encode = c_make_encoder(
        None, str, encode_basestring_ascii, None, ": ", ", ", False, False, True
    )

    def _encode(value: Any) -> str:
        return "".join(_c_encode(value, 0))

except (ImportError, TypeError):  # pragma: no cover - an interpreter without the C encoder
    _encode = json.JSONEncoder(default=str).encode

SYSTEM_COLUMNS = ("created_at", "updated_at", "created_by", "updated_by", "row_version")
AUDIT_COLUMNS = ("entity", "record_id", "action", "actor_id", "actor_name", "at", "changes")
OUTBOX_COLUMNS = (
    "topic",
    "entity",
    "record_id",
    "payload",
    "idempotency_key",
    "created_at",
    "available_at",
)


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
    layout = _layout(ce, conn.dialect)
    system = {
        "created_at": now,
        "updated_at": now,
        "created_by": actor.user_id,
        "updated_by": actor.user_id,
        "row_version": 1,
    }
    ids = _new_ids(conn, ce, layout, new, system)
    links, pairs = _links(ce, ids, [item.values for item in new])

    dumped = rows.dumper(ce)({"id": 0, **system})
    shown_system = {k: dumped[k] for k in system}
    user_owned = ce.definition.ownership == "user"
    name = ce.name
    entity_json, actor_json = _encode(name), _encode(actor.username)
    audited = ce.definition.audit
    records, table_rows, audit_rows, outbox_rows = [], [], [], []
    many = len(new) > 1  # a single record was written with RETURNING, to learn its id
    head = layout.head(now, actor)
    shown_fields, changed_fields, associations = layout.shown, layout.changed, layout.links
    record_row = layout.record_row
    for record_id, item in zip(ids, new, strict=True):
        values = item.values
        owner = item.owner_id if user_owned else None
        if many:
            table_rows.append(record_row(record_id, head, owner, values))
        after: dict[str, Any] = {"id": record_id}
        get = values.get
        for fname, shown in shown_fields:
            value = get(fname)
            after[fname] = value if shown is None or value is None else shown(value)
        after.update(shown_system)
        after["owner_id"] = owner
        for fname in associations:
            after[fname] = links.get((fname, record_id), [])
        records.append(after)
        # As audit.diff(None, after): every field with a value, in definition order.
        changes = _encode({f: [None, v] for f in changed_fields if (v := after[f]) is not None})
        if audited:
            audit_rows.append((record_id, changes))
        # The service's payload, key for key: {"entity", "id", "action", "record", "changes",
        # "actor"}, with the changes encoded once for both tables.
        outbox_rows.append(
            (
                record_id,
                f'{{"entity": {entity_json}, "id": {record_id}, '
                f'"action": "create", "record": {_encode(after)}, '
                f'"changes": {changes}, "actor": {actor_json}}}',
                f"{name}:{record_id}:create:1"[:120],
            )
        )
    if many:
        pick = layout.pick
        layout.insert.execute(conn, [pick(r) for r in table_rows])
    for fname, assoc in ce.associations.items():
        if pairs[fname]:
            conn.execute(assoc.insert(), pairs[fname])
    layout.write_audit(conn, name, "create", actor, now, audit_rows)
    layout.write_outbox(conn, "record.created", name, now, outbox_rows)
    return records


def _new_ids(conn, ce, layout, new, system) -> list[int]:
    if len(new) == 1:
        # One row: INSERT ... RETURNING id, exact under any concurrency (rows.py).
        row = dict.fromkeys(c for cf in ce.fields.values() for c in cf.columns)
        row.update(rows.to_row(ce, new[0].values))
        row["owner_id"] = new[0].owner_id if ce.definition.ownership == "user" else None
        return rows.insert_returning_ids(conn, ce.table, [row], system)
    # Drawn before the INSERT (rows.py says why), written by the caller.
    return rows._new_ids(conn, ce.table, len(new))


class _Layout:
    """What writing records of one entity on one dialect needs, made once (see the module)."""

    def __init__(self, ce: CompiledEntity, dialect: sa.Dialect):
        table = ce.table
        self.links = [cf.name for cf in ce.fields.values() if cf.type.association]
        self.changed = list(ce.fields)
        #: (field, its JSON form from its stored value, or None when it is shown as stored)
        self.shown = [
            (cf.name, None if _shown_as_stored(cf) else _shower(cf))
            for cf in ce.fields.values()
            if cf.columns
        ]
        # The table row: id, the system columns, owner, then each field's columns.
        columns = ["id", *SYSTEM_COLUMNS, "owner_id"]
        self._fields: list[tuple[str, int, Any]] = []
        for cf in ce.fields.values():
            if not cf.columns:
                continue
            binds = [binder(table.c[c], dialect) for c in cf.columns]
            columns.extend(cf.columns)
            if len(cf.columns) == 1:
                self._fields.append((cf.name, 1, binds[0]))
            else:
                self._fields.append((cf.name, len(cf.columns), binds))
        self._system_binds = [binder(table.c[c], dialect) for c in SYSTEM_COLUMNS]
        self.insert = prepared(table, dialect, columns)
        self.pick = _picker(columns, self.insert.keys)
        self.audit = prepared(audit_table, dialect, AUDIT_COLUMNS)
        self._audit_pick = _picker(AUDIT_COLUMNS, self.audit.keys)
        self._at = binder(audit_table.c.at, dialect)
        self.outbox = prepared(outbox_table, dialect, OUTBOX_COLUMNS)
        self._outbox_pick = _picker(OUTBOX_COLUMNS, self.outbox.keys)
        self._outbox_at = binder(outbox_table.c.created_at, dialect)

    def head(self, now: dt.datetime, actor: Actor) -> tuple:
        """The system columns' values (the same for every record of a batch), converted."""
        values = (now, now, actor.user_id, actor.user_id, 1)
        return tuple(
            v if b is None or v is None else b(v)
            for v, b in zip(values, self._system_binds, strict=True)
        )

    def record_row(
        self, record_id: int, head: tuple, owner: int | None, values: Mapping[str, Any]
    ) -> list:
        row = [record_id, *head, owner]
        append, get = row.append, values.get
        for fname, width, bind in self._fields:
            value = get(fname)
            if width == 1:
                append(value if bind is None or value is None else bind(value))
            elif value is None:
                row.extend((None,) * width)
            else:
                row.extend(
                    v if b is None or v is None else b(v) for v, b in zip(value, bind, strict=True)
                )
        return row

    def write_audit(self, conn, entity: str, action: str, actor: Actor, now, entries) -> None:
        if not entries:
            return
        at = now if self._at is None else self._at(now)
        pick = self._audit_pick
        self.audit.execute(
            conn,
            [
                pick((entity, rid, action, actor.user_id, actor.username, at, changes))
                for rid, changes in entries
            ],
        )

    def write_outbox(self, conn, topic: str, entity: str, now, messages) -> None:
        if not messages:
            return
        at = now if self._outbox_at is None else self._outbox_at(now)
        pick = self._outbox_pick
        self.outbox.execute(
            conn,
            [pick((topic, entity, rid, payload, key, at, at)) for rid, payload, key in messages],
        )


#: (table, dialect) -> _Layout. Weak: a table belongs to one metadata snapshot.
_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _layout(ce: CompiledEntity, dialect: sa.Dialect) -> _Layout:
    cache = _LAYOUTS.get(ce.table)
    if cache is None:
        cache = _LAYOUTS[ce.table] = {}
    found = cache.get(dialect)
    if found is None:
        found = cache[dialect] = _Layout(ce, dialect)
    return found


def _picker(columns: Sequence[str], order: Sequence[str]):
    """A function reordering a row given in ``columns`` order into ``order`` (a tuple)."""
    where = [list(columns).index(k) for k in order]
    if len(where) == 1:
        return lambda row: (row[where[0]],)
    return itemgetter(*where)


_PROBE = object()


def _shown_as_stored(cf) -> bool:
    """Whether the field type shows a stored value as it is (its ``dump`` is the identity)."""
    if len(cf.columns) != 1:
        return False
    try:
        return cf.type.dump(cf.spec, _PROBE) is _PROBE
    except Exception:  # a dump that cannot take the probe converts values
        return False


def _shower(cf):
    dump, spec = cf.type.dump, cf.spec
    return lambda value: dump(spec, value)


def _links(
    ce: CompiledEntity, ids: Sequence[int], values: Sequence[Mapping[str, Any]]
) -> tuple[dict[tuple[str, int], list[int]], dict[str, list[dict[str, int]]]]:
    """The records' many-to-many links: ((field, id) -> target ids, field -> rows to INSERT
    into its association table once the records are written)."""
    out: dict[tuple[str, int], list[int]] = {}
    pairs: dict[str, list[dict[str, int]]] = {}
    for fname in ce.associations:
        found = pairs[fname] = []
        for record_id, vals in zip(ids, values, strict=True):
            targets = sorted(set(vals.get(fname) or []))
            found.extend({"source_id": record_id, "target_id": target} for target in targets)
            out[(fname, record_id)] = targets
    return out, pairs
