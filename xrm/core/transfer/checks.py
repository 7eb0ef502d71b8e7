"""The record service's reference and uniqueness checks, for a batch of records at once.

:meth:`RecordService._check_references` and ``_check_unique`` ask the database once per
record; here one query per target entity and per unique index covers a whole batch, with the
service's messages. Uniqueness also looks back at earlier rows of the same file, which the
database cannot see until they are written (and never sees in a dry run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, CompiledField, MetadataSnapshot

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
) -> list[list[tuple[str, str]]]:
    """For each item (field -> coerced value), its (field, message) problems: references to
    records that do not exist or are in the recycle bin."""
    wanted: dict[str, set[int]] = {}
    uses: list[tuple[int, str, str, list[int]]] = []
    for n, values in enumerate(items):
        for name, value in values.items():
            cf = ce.fields[name]
            if value is None or cf.spec.type not in RELATION_TYPES:
                continue
            if cf.spec.type == "regarding":
                target, ids = value[0], [value[1]]
            else:
                target = cf.spec.opt("target")
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
    out: list[list[tuple[str, str]]] = [[] for _ in items]
    for n, name, target, ids in uses:
        if target not in existing:
            out[n].append((name, f"entity {target!r} does not exist"))
            continue
        missing = [i for i in ids if i not in existing[target]]
        if missing:
            label = ce.fields[name].spec.label
            listed = ", ".join(map(str, missing))
            out[n].append((name, f"{label}: {target} {listed} does not exist"))
    return out


class UniqueIndex:
    """One unique index of an entity, and the values earlier rows of the file gave it."""

    def __init__(self, ce: CompiledEntity, columns: tuple[str, ...]):
        self.ce = ce
        self.columns = columns
        self.fields: list[CompiledField] = [
            f for f in ce.fields.values() if set(f.columns) & set(columns)
        ]
        self.names = [f.name for f in self.fields]
        self.labels = ", ".join(f.spec.label for f in self.fields)
        #: value -> row number of the first row that gave it
        self.seen: dict[tuple, int] = {}

    @classmethod
    def of(cls, ce: CompiledEntity) -> list[UniqueIndex]:
        """The entity's unique indexes, as the record service checks them."""
        return [cls(ce, tuple(c.name for c in ix.columns)) for ix in ce.table.indexes if ix.unique]

    def value(self, row: Mapping[str, Any]) -> tuple | None:
        """The index's value in a row of column values (None when a column is null: nulls
        never clash)."""
        value = tuple(row.get(c) for c in self.columns)
        return None if None in value else value

    def clashes(
        self, conn: sa.Connection, candidates: Sequence[tuple[int, tuple, int | None]]
    ) -> dict[int, str]:
        """For candidates (row number, value, the record's own id or None), the message of
        each whose value an earlier row of the file or another record already has."""
        out: dict[int, str] = {}
        fresh = []
        for row, value, record_id in candidates:
            first = self.seen.setdefault(value, row)
            if first != row:
                out[row] = f"row {first} has the same {self.labels}"
            else:
                fresh.append((row, value, record_id))
        t = self.ce.table
        columns = [t.c[c] for c in self.columns]
        taken: dict[tuple, list] = {}
        for chunk in chunks(list({v for _, v, _ in fresh})):
            q = sa.select(t.c.id, t.c.deleted_at, *columns).where(in_list(columns, chunk))
            for r in conn.execute(q):
                taken.setdefault(tuple(r[2:]), []).append(r)
        for row, value, record_id in fresh:
            other = next((r for r in taken.get(value, ()) if r.id != record_id), None)
            if other is not None:
                where = (
                    " (in the recycle bin: restore or purge it)"
                    if other.deleted_at is not None
                    else ""
                )
                out[row] = f"{self.ce.name} {other.id}{where} already has the same {self.labels}"
        return out
