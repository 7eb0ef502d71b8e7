"""Reading one record as the record service shows it: its row, dumped to JSON, with its
many-to-many links, within the reader's scope and without the fields hidden from them.

Everything is looked up in the snapshot the caller passes (the request's), never in the
registry's latest one: a request sees one version of the metadata from start to end.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.statements import Prepared
from ..security.access import Access
from . import rows


def scoped(ce: CompiledEntity, access: Access | None, *clauses) -> list:
    """Conditions selecting live rows of ``ce`` (not in the recycle bin) in ``access``'s
    scope (every live row without ``access``)."""
    t = ce.table
    where = [t.c.deleted_at.is_(None), *clauses]
    if access is not None:
        scope = access.scope_clause(ce.name, t)
        if scope is not None:
            where.append(scope)
    return where


def fetch_row(
    conn: sa.Connection, ce: CompiledEntity, record_id: int, access: Access | None
) -> Mapping[str, Any] | None:
    """The record's row (column -> value): live and in scope when ``access`` is given, else
    whatever row has this id."""
    t = ce.table
    scope = access.scope_clause(ce.name, t) if access is not None else None
    if scope is None:
        # The two statements without a scope are built once per table: building a SELECT
        # costs more than running it by primary key.
        statements = _BY_ID.get(t)
        if statements is None:
            by_id = t.c.id == sa.bindparam("record_id")
            statements = _BY_ID[t] = (
                Prepared(sa.select(t).where(by_id)),
                Prepared(sa.select(t).where(t.c.deleted_at.is_(None), by_id)),
            )
        return statements[access is not None].first(conn, {"record_id": record_id})
    q = sa.select(t).where(t.c.deleted_at.is_(None), t.c.id == record_id, scope)
    return conn.execute(q).mappings().first()


#: table -> (SELECT by id, SELECT a live record by id), for fetch_row
_BY_ID: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def record_of(
    conn: sa.Connection,
    snap: MetadataSnapshot,
    ce: CompiledEntity,
    row: Mapping[str, Any],
    access: Access | None,
) -> dict[str, Any]:
    """The JSON record of a fetched row, with its links to live records (in ``access``'s
    scope when given) and without the fields ``access`` hides."""
    record = rows.dumper(ce)(row)  # as ce.dump, without looking up each field's columns
    for fname in ce.associations:
        record[fname] = linked(conn, snap, ce, fname, [row["id"]], access).get(row["id"], [])
    if access is not None:
        for hidden in access.hidden(ce.name):
            record.pop(hidden, None)
    return record


def fetch(
    conn: sa.Connection,
    snap: MetadataSnapshot,
    ce: CompiledEntity,
    record_id: int,
    access: Access | None,
) -> dict[str, Any] | None:
    """:func:`fetch_row` then :func:`record_of`; None when there is no such record."""
    row = fetch_row(conn, ce, record_id, access)
    return None if row is None else record_of(conn, snap, ce, row, access)


def linked(
    conn: sa.Connection,
    snap: MetadataSnapshot,
    ce: CompiledEntity,
    fname: str,
    ids: list[int],
    access: Access | None,
) -> dict[int, list[int]]:
    """source id -> the ids it links to through the many-to-many field ``fname``, leaving out
    targets in the recycle bin and (with ``access``) outside the reader's scope."""
    assoc = ce.associations[fname]
    q = sa.select(assoc.c.source_id, assoc.c.target_id).where(assoc.c.source_id.in_(ids))
    target = snap.entities.get(ce.fields[fname].spec.opt("target"))
    if target is not None:
        tt = target.table
        q = q.join(tt, tt.c.id == assoc.c.target_id).where(*scoped(target, access))
    out: dict[int, list[int]] = {}
    for source, target_id in conn.execute(q.order_by(assoc.c.source_id, assoc.c.target_id)):
        out.setdefault(source, []).append(target_id)
    return out


def visible(access: Access, ce: CompiledEntity, record: dict) -> dict:
    """``record`` without the fields ``access`` hides (the record itself when none is)."""
    hidden = access.hidden(ce.name)
    return {k: v for k, v in record.items() if k not in hidden} if hidden else record
