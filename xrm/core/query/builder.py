"""Resolve a parsed query against an entity and build its SQL.

:func:`plan_query` is pure: entity + parsed query + context in, a :class:`QueryPlan` out. The
plan holds everything checked and resolved (projection, filter, order) and makes the two
statements the runner executes: the page (keyset, ``limit + 1`` rows to know whether another
page follows) and the capped count. Both carry the same WHERE clauses: not soft-deleted, the
entity's scope, the filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from .errors import InvalidQuery
from .fields import FieldRef, QueryContext
from .filters import filter_clause
from .nodes import Query, SelectItem
from .paging import SortKey, after, fingerprint, sort_keys


@dataclass(frozen=True)
class Projection:
    """What to return of each record of one entity: fields in output order, and which of them
    are expanded into the referenced records (with their own projection)."""

    entity: CompiledEntity
    fields: tuple[FieldRef, ...]
    expansions: Mapping[str, Projection] = field(default_factory=dict)

    def columns(self) -> list[sa.Column]:
        """Columns to fetch: every selected field's own columns (a reference's id also when
        it is expanded, to find the referenced record)."""
        out: dict[str, sa.Column] = {}
        for ref in self.fields:
            for name in ref.columns:
                out.setdefault(name, self.entity.table.c[name])
        return list(out.values())


def resolve_projection(
    ce: CompiledEntity, items: Sequence[SelectItem] | None, ctx: QueryContext
) -> Projection:
    """``select`` items -> a :class:`Projection`; without ``select``, every readable field.
    ``id`` is always returned, first."""
    chosen: dict[str, FieldRef] = {"id": ctx.field(ce, "id", parameter="select")}
    expansions: dict[str, Projection] = {}
    for item in items or (SelectItem("*"),):
        if item.name == "*":
            for ref in ctx.readable_fields(ce):
                chosen.setdefault(ref.name, ref)
            continue
        ref = ctx.field(ce, item.name, parameter="select")
        if item.children is not None:
            if not (ref.is_reference or ref.is_link):
                raise InvalidQuery(
                    f"{ce.name}.{ref.name} is not a reference and cannot be expanded"
                    + (
                        " (references to any entity cannot be expanded)"
                        if ref.spec.type == "regarding"
                        else ""
                    ),
                    parameter="select",
                    field=ref.name,
                )
            expansions[ref.name] = resolve_projection(ctx.target(ref), item.children, ctx)
        chosen.setdefault(ref.name, ref)
    return Projection(ce, tuple(chosen.values()), expansions)


@dataclass(frozen=True)
class QueryPlan:
    """A checked, resolved query on one entity, ready to run."""

    entity: CompiledEntity
    projection: Projection
    keys: tuple[SortKey, ...]
    where: tuple[Any, ...]
    limit: int
    cursor: str | None
    count: bool
    fingerprint: str

    def page_statements(
        self, position: Sequence[Any] | None = None, *, bound: bool = False
    ) -> list[sa.Select]:
        """The statements that read one page (plus one row, to tell whether another page
        follows), to run in turn until the page is full: usually one; two when the page may
        cross from a sort key's values into its NULLs (see :func:`.paging.after`). The order
        values come back labelled ``_k0``, ``_k1``... for the next cursor, after the
        projection's columns. ``bound``: the position's values as bind parameters
        (:func:`.paging.after_parameters`)."""
        segments = [None] if position is None else after(self.keys, position, bound=bound)
        keys = [k.column.label(f"_k{i}") for i, k in enumerate(self.keys)]
        base = sa.select(*self.projection.columns(), *keys).where(*self.where)
        ordered = [k.order_by() for k in self.keys]
        return [
            (base if segment is None else base.where(segment))
            .order_by(*ordered)
            .limit(self.limit + 1)
            for segment in segments
        ]

    def count_statement(self, cap: int) -> sa.Select:
        """``count(*)`` of the matching rows, reading at most ``cap + 1`` of them."""
        t = self.entity.table
        matching = sa.select(t.c.id).where(*self.where).limit(cap + 1).subquery()
        return sa.select(sa.func.count()).select_from(matching)


def plan_query(
    ce: CompiledEntity,
    query: Query,
    ctx: QueryContext,
    *,
    default_limit: int = 50,
    max_limit: int = 1000,
) -> QueryPlan:
    """Check and resolve ``query`` on ``ce``: every name, operator and value, the limit."""
    limit = default_limit if query.limit is None else query.limit
    if limit > max_limit:
        raise InvalidQuery(
            f"limit must be at most {max_limit}, not {limit}", parameter="limit", value=limit
        )
    projection = resolve_projection(ce, query.select, ctx)
    keys = tuple(sort_keys(ce, query.order, ctx))
    where = (*ctx.visible(ce), filter_clause(query.filter, ce, ctx))
    issued_for = fingerprint(
        ce.name, [(k.ref.name, k.descending, k.nulls_first) for k in keys], query.filter
    )
    return QueryPlan(
        entity=ce,
        projection=projection,
        keys=keys,
        where=where,
        limit=limit,
        cursor=query.cursor,
        count=query.count,
        fingerprint=issued_for,
    )
