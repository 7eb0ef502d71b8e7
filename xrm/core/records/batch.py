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
stored as they are shown. Each record then costs one tuple per table, its JSON record and
one JSON encoding each of the record (for the outbox payload) and of its changes (for the audit
entry, when the entity is audited).

Everything before the SQL (permission, validation, checks, generated values, ``before`` hooks)
is the record service's; this module only writes.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import attrgetter, methodcaller
from typing import Any

import orjson
import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ...metadata.fieldtypes.scalars import _dump_date, _dump_datetime
from ..context import Actor
from ..tables import audit as audit_table
from ..tables import outbox as outbox_table
from . import rows
from .inserts import bind_column, binder, prepared

#: The JSON of audit changes and outbox payloads (``json.dumps(value, default=str)``'s value,
#: compact): orjson, a tenth of the standard C encoder's time, which was a quarter of an
#: import's Python work. Dates and dataclasses go to ``str`` as with ``json.dumps``; what orjson
#: refuses (a lone surrogate in a text, an integer past 64 bits) goes to the standard encoder.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_standard_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode


def _encode(value: Any) -> str:
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError
        return _standard_encode(value)


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
    values = [item.values for item in new]
    links, pairs = _links(ce, ids, values)
    owners = (
        [item.owner_id for item in new]
        if ce.definition.ownership == "user"
        else list(repeat(None, len(new)))
    )
    # Column by column: each field's values of the whole batch (what the records store, what
    # they show), then the rows of each table zipped from the columns.
    stored = {f: list(map(methodcaller("get", f), values)) for f in layout.stored}
    dumped = rows.dumper(ce)({"id": 0, **system})
    shown = [ids]
    for fname, show in layout.shown:
        shown.append(bind_column(show, stored[fname]))
    shown.extend(repeat(dumped[k]) for k in system)
    shown.append(owners)
    shown.extend([links.get((fname, rid), []) for rid in ids] for fname in layout.links)
    records = list(map(dict, map(partial(zip, layout.record_keys), zip(*shown, strict=False))))
    if len(new) > 1:  # a single record was written with RETURNING, to learn its id
        layout.insert.execute(conn, layout.table_rows(ids, now, actor, owners, stored))
    for fname, assoc in ce.associations.items():
        if pairs[fname]:
            conn.execute(assoc.insert(), pairs[fname])
    name = ce.name
    if ce.definition.audit:
        # As audit.diff(None, after): every field with a value, in definition order.
        changed = layout.changed
        changes = [
            _encode({f: [None, v] for f in changed if (v := after[f]) is not None})
            for after in records
        ]
        layout.write_audit(conn, name, "create", actor, now, ids, changes)
    # The service's payload, key for key: {"entity", "id", "action", "record", "actor"}; its
    # "changes" would repeat the record, so they are left to the reader
    # (xrm.core.jobs.store.read_payload).
    head = f'{{"entity":{_encode(name)},"id":'
    tail = f',"actor":{_encode(actor.username)}}}'
    payloads = [
        f'{head}{rid},"action":"create","record":{_encode(after)}{tail}'
        for rid, after in zip(ids, records, strict=True)
    ]
    keys = [f"{name}:{rid}:create:1"[:120] for rid in ids]
    layout.write_outbox(conn, "record.created", name, now, ids, payloads, keys)
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
        #: the fields stored in columns of the table
        self.stored = [cf.name for cf in ce.fields.values() if cf.columns]
        #: (field, its JSON form from its stored value, or None when it is shown as stored)
        self.shown = [
            (cf.name, None if _shown_as_stored(cf) else _shower(cf))
            for cf in ce.fields.values()
            if cf.columns
        ]
        #: the keys of a record as returned, in order
        self.record_keys = (
            "id",
            *(f for f, _ in self.shown),
            *SYSTEM_COLUMNS,
            "owner_id",
            *self.links,
        )
        # column -> (field, its position among the field's columns or None, value converter)
        self._columns: dict[str, tuple[str, int | None, Any]] = {}
        for cf in ce.fields.values():
            for n, column in enumerate(cf.columns):
                part = None if len(cf.columns) == 1 else n
                self._columns[column] = (cf.name, part, binder(table.c[column], dialect))
        self._system_binds = {c: binder(table.c[c], dialect) for c in SYSTEM_COLUMNS}
        columns = ["id", *SYSTEM_COLUMNS, "owner_id", *self._columns]
        self.insert = prepared(table, dialect, columns)
        self.audit = prepared(audit_table, dialect, AUDIT_COLUMNS)
        self._at = binder(audit_table.c.at, dialect)
        self.outbox = prepared(outbox_table, dialect, OUTBOX_COLUMNS)
        self._outbox_at = binder(outbox_table.c.created_at, dialect)

    def table_rows(
        self,
        ids: list[int],
        now: dt.datetime,
        actor: Actor,
        owners: list[int | None],
        stored: dict[str, list[Any]],
    ) -> list[tuple]:
        """The table's rows, in the statement's column order, values converted for the
        driver."""
        system = dict(zip(SYSTEM_COLUMNS, (now, now, actor.user_id, actor.user_id, 1), strict=True))
        columns: list[Any] = []
        for key in self.insert.keys:
            if key == "id":
                columns.append(ids)
            elif key == "owner_id":
                columns.append(owners)
            elif key in system:
                value, bind = system[key], self._system_binds[key]
                columns.append(repeat(value if bind is None or value is None else bind(value)))
            else:
                fname, part, bind = self._columns[key]
                values = stored[fname]
                if part is not None:
                    values = [None if v is None else v[part] for v in values]
                columns.append(bind_column(bind, values))
        return list(zip(*columns, strict=False))  # system columns repeat

    def write_audit(self, conn, entity: str, action: str, actor: Actor, now, ids, changes) -> None:
        if not ids:
            return
        at = now if self._at is None else self._at(now)
        given = {"record_id": ids, "changes": changes}
        constant = {
            "entity": entity,
            "action": action,
            "actor_id": actor.user_id,
            "actor_name": actor.username,
            "at": at,
        }
        self.audit.execute(conn, _zipped(self.audit.keys, given, constant))

    def write_outbox(self, conn, topic: str, entity: str, now, ids, payloads, keys) -> None:
        if not ids:
            return
        at = now if self._outbox_at is None else self._outbox_at(now)
        given = {"record_id": ids, "payload": payloads, "idempotency_key": keys}
        constant = {"topic": topic, "entity": entity, "created_at": at, "available_at": at}
        self.outbox.execute(conn, _zipped(self.outbox.keys, given, constant))


def _zipped(order: Sequence[str], columns: dict[str, list], constant: dict[str, Any]) -> list:
    """Rows in ``order`` from columns of values and values the same in every row."""
    return list(
        zip(*(columns[k] if k in columns else repeat(constant[k]) for k in order), strict=False)
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
    """The field's JSON form of a stored value, with a ``column`` form for a whole column of
    dates or naive date-times (:func:`.inserts.bind_column`): what ``dump`` gives them."""
    dump, spec = cf.type.dump, cf.spec

    def show(value):
        return dump(spec, value)

    if dump is _dump_date:
        show.column = _iso_date_column
    elif dump is _dump_datetime:
        show.column = _iso_datetime_column
    return show


def _iso_date_column(values: list) -> list | None:
    if set(map(type, values)) == {dt.date}:
        return list(map(dt.date.isoformat, values))
    return None


def _iso_datetime_column(values: list) -> list | None:
    if set(map(type, values)) == {dt.datetime} and not any(map(_tzinfo, values)):
        return [
            v.isoformat(timespec="microseconds" if v.microsecond else "seconds") + "Z"
            for v in values
        ]
    return None


_tzinfo = attrgetter("tzinfo")


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
