"""Records out of rows, then many-to-many ids and expansions without N+1 queries.

After the page query, each relation costs one query per level, whatever the page size: the ids
of the whole page go into one ``IN (...)`` (split only past :data:`IN_CHUNK` ids). Every query
on a referenced entity carries that entity's visibility (not soft-deleted, inside its scope) and
returns only its readable fields, so an expansion is no back door. A referenced record the
caller cannot see expands to ``null``; a many-to-many list simply leaves it out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .builder import Projection
from .fields import FieldRef, QueryContext

#: Largest IN list sent in one statement (well below SQLite's 32,766 bound parameters).
IN_CHUNK = 5000


def dump(projection: Projection, row: Mapping[str, Any]) -> dict[str, Any]:
    """One fetched row -> the JSON record, keys in select order. Many-to-many fields are filled
    in later by :func:`complete`."""
    return dumper(projection)(row)


def dumper(projection: Projection) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """:func:`dump` for many rows of one projection: the fields' columns and converters are
    looked up once (the field types' ``from_row`` rebuilds the column list on every call), and
    a value whose type stores it as JSON already (text, numbers...) is copied without a call."""
    layout = []
    for ref in projection.fields:
        fn = ref.type.dump
        if ref.is_link:
            layout.append((ref.name, None, None, None))
        elif len(ref.columns) == 1:
            layout.append((ref.name, ref.columns[0], None if _as_stored(fn) else fn, ref.spec))
        else:
            layout.append((ref.name, tuple(ref.columns), fn, ref.spec))

    def dump_row(row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get = row.get
        for name, column, fn, spec in layout:
            if column is None:  # many-to-many: filled in by complete()
                out[name] = None
            elif type(column) is tuple:
                out[name] = fn(spec, tuple(get(c) for c in column))
            elif fn is None:
                out[name] = get(column)
            else:
                out[name] = fn(spec, get(column))
        return out

    return dump_row


def row_dumper(projection: Projection) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """:func:`dumper` for rows fetched as tuples whose first columns are
    ``projection.columns()``, in that order (as the page statements select them). When every
    field is one column (the usual case), a record is ``dict(zip(names, row))`` plus the few
    fields whose type converts the stored value (dates, date-times...)."""
    columns = [c.name for c in projection.columns()]
    position = {name: i for i, name in enumerate(columns)}
    fields = projection.fields
    if (
        all(not ref.is_link and len(ref.columns) == 1 for ref in fields)
        and [ref.columns[0] for ref in fields] == columns[: len(fields)]
    ):
        names = tuple(ref.name for ref in fields)
        converted = tuple(
            (ref.name, ref.type.dump, ref.spec) for ref in fields if not _as_stored(ref.type.dump)
        )

        def dump_simple(row: Sequence[Any]) -> dict[str, Any]:
            # zip stops at the last field: the sort keys follow in the row
            out = dict(zip(names, row, strict=False))
            for name, fn, spec in converted:
                out[name] = fn(spec, out[name])
            return out

        return dump_simple
    layout = []
    for ref in fields:
        fn = ref.type.dump
        if ref.is_link:
            layout.append((ref.name, None, None, None))
        elif len(ref.columns) == 1:
            at = position[ref.columns[0]]
            layout.append((ref.name, at, None if _as_stored(fn) else fn, ref.spec))
        else:
            layout.append((ref.name, tuple(position[c] for c in ref.columns), fn, ref.spec))

    def dump_row(row: Sequence[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, at, fn, spec in layout:
            if at is None:  # many-to-many: filled in by complete()
                out[name] = None
            elif type(at) is tuple:
                out[name] = fn(spec, tuple(row[i] for i in at))
            elif fn is None:
                out[name] = row[at]
            else:
                out[name] = fn(spec, row[at])
        return out

    return dump_row


def _stored(_spec: Any, value: Any) -> Any:
    return value


def _as_stored(fn: Callable[[Any, Any], Any]) -> bool:
    """Whether a field type's ``dump`` returns the stored value as it is. The field types
    write that as ``lambda s, v: v``: same byte code as :func:`_stored`, no constants or
    closure (so nothing else can look alike)."""
    code, ref = getattr(fn, "__code__", None), _stored.__code__
    return (
        code is not None
        and code.co_code == ref.co_code
        and code.co_argcount == 2
        and not code.co_consts[1:]
        and getattr(fn, "__closure__", None) is None
    )


def complete(
    conn: sa.Connection,
    ctx: QueryContext,
    projection: Projection,
    records: Sequence[dict[str, Any]],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Fill in many-to-many id lists and expansions of ``records`` (in place)."""
    if not records:
        return
    ids = [r["id"] for r in records]
    for ref in projection.fields:
        if ref.is_link and ref.name not in projection.expansions:
            linked = _linked_ids(conn, ctx, ref, ids)
            for record in records:
                record[ref.name] = linked.get(record["id"], [])
    for name, sub in projection.expansions.items():
        ref = next(f for f in projection.fields if f.name == name)
        if ref.is_reference:
            _expand_reference(conn, ctx, ref, sub, records, rows)
        else:
            _expand_links(conn, ctx, ref, sub, records, ids)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), IN_CHUNK):
        yield values[i : i + IN_CHUNK]


def _linked_ids(
    conn: sa.Connection, ctx: QueryContext, ref: FieldRef, ids: Sequence[int]
) -> dict[int, list[int]]:
    target = ctx.target(ref)
    tt = target.table
    assoc = ref.entity.associations[ref.name]
    out: dict[int, list[int]] = {}
    for chunk in _chunks(ids):
        stmt = (
            sa.select(assoc.c.source_id, assoc.c.target_id)
            .select_from(assoc.join(tt, tt.c.id == assoc.c.target_id))
            .where(assoc.c.source_id.in_(chunk), *ctx.visible(target))
            .order_by(assoc.c.source_id, assoc.c.target_id)
        )
        for source_id, target_id in conn.execute(stmt):
            out.setdefault(source_id, []).append(target_id)
    return out


def _expand_reference(
    conn: sa.Connection,
    ctx: QueryContext,
    ref: FieldRef,
    sub: Projection,
    records: Sequence[dict[str, Any]],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    column = ref.columns[0]
    wanted = sorted({row[column] for row in rows if row[column] is not None})
    tt = sub.entity.table
    found: dict[int, dict[str, Any]] = {}
    found_rows = []
    for chunk in _chunks(wanted):
        stmt = sa.select(*sub.columns()).where(tt.c.id.in_(chunk), *ctx.visible(sub.entity))
        for row in conn.execute(stmt).mappings():
            found[row["id"]] = dump(sub, row)
            found_rows.append(row)
    targets = [found[row["id"]] for row in found_rows]
    complete(conn, ctx, sub, targets, found_rows)
    for record, row in zip(records, rows, strict=True):
        record[ref.name] = found.get(row[column])


def _expand_links(
    conn: sa.Connection,
    ctx: QueryContext,
    ref: FieldRef,
    sub: Projection,
    records: Sequence[dict[str, Any]],
    ids: Sequence[int],
) -> None:
    tt = sub.entity.table
    assoc = ref.entity.associations[ref.name]
    source = assoc.c.source_id.label("_source")
    found: dict[int, dict[str, Any]] = {}
    found_rows = []
    linked: dict[int, list[int]] = {}
    for chunk in _chunks(ids):
        stmt = (
            sa.select(source, *sub.columns())
            .select_from(assoc.join(tt, tt.c.id == assoc.c.target_id))
            .where(assoc.c.source_id.in_(chunk), *ctx.visible(sub.entity))
            .order_by(assoc.c.source_id, tt.c.id)
        )
        for row in conn.execute(stmt).mappings():
            target_id = row["id"]
            linked.setdefault(row["_source"], []).append(target_id)
            if target_id not in found:
                found[target_id] = dump(sub, row)
                found_rows.append(row)
    targets = [found[row["id"]] for row in found_rows]
    complete(conn, ctx, sub, targets, found_rows)
    for record in records:
        record[ref.name] = [found[t] for t in linked.get(record["id"], [])]
