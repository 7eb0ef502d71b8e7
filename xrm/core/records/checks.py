"""The record service's reference and uniqueness checks, for one record or a batch at once.

One query per reference target entity and per unique index covers a whole batch (values in IN
lists of :data:`IN_CHUNK`), so creating 1,000 records costs what creating one does, a few
queries, not a few thousand. A single create or update is a batch of one: the same code, the
same messages.

Uniqueness also looks at the other records of the batch (and, through ``seen``, at rows a
caller checked earlier without writing them, as an import's dry run does): the database cannot
see those until they are written.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, CompiledField, MetadataSnapshot
from ..security.access import Access, AccessDenied
from . import rows
from .errors import RecordConflict, RecordInvalid, field_problem

#: Values in one IN list (well below SQLite's bound-parameter limit, even for compound keys).
IN_CHUNK = 500
RELATION_TYPES = ("reference", "manytomany", "regarding")

T = TypeVar("T")


def chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for i in range(0, len(values), IN_CHUNK):
        yield values[i : i + IN_CHUNK]


def in_list(columns: Sequence[sa.Column], values: Sequence[tuple]) -> sa.ColumnElement[bool]:
    """``columns IN values``: a plain IN for one column, a row-value IN for several."""
    if len(columns) == 1:
        return columns[0].in_([v[0] for v in values])
    return sa.tuple_(*columns).in_(values)


def missing_references(
    conn: sa.Connection,
    snapshot: MetadataSnapshot,
    ce: CompiledEntity,
    items: Sequence[Mapping[str, Any]],
) -> list[list[dict[str, str]]]:
    """For each item (field -> coerced value), its problems: references to records that do not
    exist or are in the recycle bin, and to entities that do not exist."""
    relations = [
        (cf.name, cf.spec.type, cf.spec.opt("target"))
        for cf in ce.fields.values()
        if cf.spec.type in RELATION_TYPES
    ]
    out: list[list[dict[str, str]]] = [[] for _ in items]
    if not relations:
        return out
    wanted: dict[str, set[int]] = {}
    uses: list[tuple[int, str, str, list[int]]] = []
    for n, values in enumerate(items):
        for name, kind, target in relations:
            value = values.get(name)
            if value is None:
                continue
            if kind == "regarding":
                target, ids = value[0], [value[1]]
            else:
                ids = value if isinstance(value, list) else [value]
            if ids:
                wanted.setdefault(target, set()).update(ids)
                uses.append((n, name, target, ids))
    existing: dict[str, set[int]] = {}
    for target, ids in wanted.items():
        te = snapshot.entities.get(target)
        if te is None:
            continue
        tt, found = te.table, set()
        for chunk in chunks(sorted(ids)):
            q = sa.select(tt.c.id).where(tt.c.id.in_(chunk), tt.c.deleted_at.is_(None))
            found.update(conn.execute(q).scalars())
        existing[target] = found
    for n, name, target, ids in uses:
        if target not in existing:
            out[n].append(field_problem(name, f"entity {target!r} does not exist"))
            continue
        missing = [i for i in ids if i not in existing[target]]
        if missing:
            label = ce.fields[name].spec.label
            listed = ", ".join(map(str, missing))
            out[n].append(field_problem(name, f"{label}: {target} {listed} does not exist"))
    return out


class UniqueIndex:
    """One unique index of an entity, as the record service checks it."""

    def __init__(self, ce: CompiledEntity, columns: tuple[str, ...]):
        self.ce = ce
        self.columns = columns
        self.fields: list[CompiledField] = [
            f for f in ce.fields.values() if set(f.columns) & set(columns)
        ]
        self.names = [f.name for f in self.fields]
        self.labels = ", ".join(f.spec.label for f in self.fields)

    @classmethod
    def of(cls, ce: CompiledEntity) -> list[UniqueIndex]:
        """The entity's unique indexes."""
        return [cls(ce, tuple(c.name for c in ix.columns)) for ix in ce.table.indexes if ix.unique]

    def value(self, row: Mapping[str, Any]) -> tuple | None:
        """The index's value in a row of column values (None when a column is null: nulls
        never clash)."""
        value = tuple(row.get(c) for c in self.columns)
        return None if None in value else value

    def clashes(
        self,
        conn: sa.Connection,
        candidates: Sequence[tuple[int, str, tuple, int | None]],
        seen: dict[tuple, str],
    ) -> dict[int, str]:
        """For candidates (position, name, value, the record's own id or None), the message of
        each whose value an earlier candidate (or ``seen``: value -> name of who gave it) or
        another record already has. Each candidate's value is added to ``seen``."""
        out: dict[int, str] = {}
        fresh = []
        for position, name, value, record_id in candidates:
            first = seen.setdefault((self.columns, value), name)
            if first != name:
                out[position] = f"{first} has the same {self.labels}"
            else:
                fresh.append((position, value, record_id))
        t = self.ce.table
        columns = [t.c[c] for c in self.columns]
        taken: dict[tuple, list] = {}
        for chunk in chunks(list({v for _, v, _ in fresh})):
            q = sa.select(t.c.id, t.c.deleted_at, *columns).where(in_list(columns, chunk))
            for r in conn.execute(q):
                taken.setdefault(tuple(r[2:]), []).append(r)
        for position, value, record_id in fresh:
            other = next((r for r in taken.get(value, ()) if r.id != record_id), None)
            if other is not None:
                where = (
                    " (in the recycle bin: restore or purge it)"
                    if other.deleted_at is not None
                    else ""
                )
                out[position] = (
                    f"{self.ce.name} {other.id}{where} already has the same {self.labels}"
                )
        return out

    def conflict(self, message: str) -> RecordConflict:
        return RecordConflict(
            message, [field_problem(f.name, f"{f.spec.label} must be unique") for f in self.fields]
        )


def unique_fields(ce: CompiledEntity) -> tuple[str, ...]:
    """The fields that are part of a unique index of the entity."""
    return _facts(ce)[0]


def generated_fields(ce: CompiledEntity) -> tuple[CompiledField, ...]:
    """The fields whose values the platform generates on create (uuid, autonumber)."""
    return _facts(ce)[1]


#: table -> facts about its entity looked up for every record (weak: goes with the snapshot)
_FACTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _facts(ce: CompiledEntity) -> tuple:
    found = _FACTS.get(ce.table)
    if found is None:
        unique = tuple(dict.fromkeys(n for index in UniqueIndex.of(ce) for n in index.names))
        generated = tuple(cf for cf in ce.fields.values() if cf.spec.type in ("uuid", "autonumber"))
        found = _FACTS[ce.table] = (unique, generated)
    return found


def unique_conflicts(
    conn: sa.Connection,
    ce: CompiledEntity,
    changes: Sequence[Mapping[str, Any] | None],
    *,
    current: Sequence[Mapping[str, Any] | None] | None = None,
    record_ids: Sequence[int | None] | None = None,
    names: Sequence[str] | None = None,
    seen: dict[tuple, str] | None = None,
) -> list[RecordConflict | None]:
    """For each record of a batch, the conflict its unique values cause, or None.

    ``changes[i]``: the column values the write sets (None: leave the record out);
    ``current[i]``: the record's present column values (an update), so a compound index one of
    whose fields changes is checked with the others' present values; ``record_ids[i]``: its
    id, which may hold its own values. ``names[i]`` names the record in a message about a
    duplicate within the batch (default ``record <i>``); ``seen`` carries values of records
    checked by earlier calls (kept by the caller)."""
    out: list[RecordConflict | None] = [None] * len(changes)
    indexes = UniqueIndex.of(ce)
    if not indexes:
        return out
    seen = {} if seen is None else seen
    for index in indexes:
        candidates = []
        for i, changed in enumerate(changes):
            if changed is None or out[i] is not None:
                continue
            if not any(c in changed for c in index.columns):
                continue
            row = {**current[i], **changed} if current and current[i] else changed
            value = index.value(row)
            if value is not None:
                name = names[i] if names else f"record {i}"
                candidates.append((i, name, value, record_ids[i] if record_ids else None))
        if candidates:
            for i, message in index.clashes(conn, candidates, seen).items():
                out[i] = index.conflict(message)
    return out


def check_relations(
    conn: sa.Connection,
    snap: MetadataSnapshot,
    ce: CompiledEntity,
    prepared: dict[int, dict[str, Any]],
    results: list[Any],
    names: Sequence[str] | None = None,
    seen: dict[tuple, str] | None = None,
    current: Sequence[Mapping[str, Any] | None] | None = None,
    record_ids: Sequence[int | None] | None = None,
) -> None:
    """References, then uniqueness, of the prepared records of a write (index -> values to
    write), batched (a few queries for any number of records). A refused record leaves
    ``prepared`` and gets its error in ``results``. ``names``, ``seen``, ``current`` and
    ``record_ids`` per index, as for :func:`unique_conflicts`."""
    order = list(prepared)
    missing = missing_references(conn, snap, ce, [prepared[i] for i in order])
    for i, problems in zip(order, missing, strict=True):
        if problems:
            results[i] = RecordInvalid(f"{ce.name}: reference to a missing record", problems)
            del prepared[i]
    order = list(prepared)
    fields = unique_fields(ce)
    if not fields or not order:
        return
    conflicts = unique_conflicts(
        conn,
        ce,
        [
            rows.to_row(ce, {f: values[f] for f in fields if f in values})
            for values in (prepared[i] for i in order)
        ],
        current=[current[i] for i in order] if current else None,
        record_ids=[record_ids[i] for i in order] if record_ids else None,
        names=[names[i] for i in order] if names else [f"record {i}" for i in order],
        seen=seen,
    )
    for i, conflict in zip(order, conflicts, strict=True):
        if conflict is not None:
            results[i] = conflict
            del prepared[i]


def check_field_rights(ce: CompiledEntity, access: Access, data: Mapping[str, Any]) -> None:
    """Refuse writing fields the actor may only read, or may not see."""
    if access.unrestricted:
        return
    barred = access.readonly(ce.name) | access.hidden(ce.name)
    denied = [f for f in data if f in barred]
    if denied:
        raise AccessDenied(
            f"{access.actor.username} may not write {', '.join(denied)} of {ce.name}",
            [
                {
                    "pointer": f"/{f}",
                    "field": f,
                    "message": f"you may not write {ce.fields[f].spec.label}"
                    if f in ce.fields
                    else "you may not write this field",
                }
                for f in denied
            ],
        )


def refuse_maintained_fields(
    ce: CompiledEntity,
    access: Access,
    values: Mapping[str, Any],
    before: Mapping[str, Any] | None = None,
) -> None:
    """System-maintained fields (``x-xrm.maintainedBy``) are written by plugin code acting as
    the platform (an actor without a user), never by a user: a user's value for one is refused
    (422 ``read_only``, as a computed field's is), except an empty value on create and the
    unchanged value on update (a client sending the whole record back). ``values`` are
    validated (coerced) values; ``before`` the stored record of an update."""
    maintained = ce.maintained
    if not maintained or access.actor.user_id is None:
        return
    bad = [
        f
        for f, v in values.items()
        if f in maintained
        and not (
            v is None or v == "" or v == []
            if before is None
            else v == _coerced(ce.fields[f], before.get(f))
        )
    ]
    if bad:
        raise RecordInvalid(
            f"{ce.name}: {', '.join(bad)} cannot be written",
            [
                {
                    "pointer": f"/{f}",
                    "field": f,
                    "message": f"{ce.fields[f].spec.label} is read-only: it is kept up to date "
                    f"by the platform from {maintained[f]}",
                    "code": "read_only",
                }
                for f in bad
            ],
        )


def _coerced(cf: CompiledField, stored: Any) -> Any:
    try:
        return None if stored is None else cf.type.coerce(cf.spec, stored, False)
    except Exception:  # a stored value the type no longer reads: any new value is a change
        return stored
