"""Run one records query: the single read path for lists of records.

Every list of records (API, UI lists, exports, lookups) should come through :func:`run_query`,
so filters, hidden fields, permission scopes and soft deletion are applied the same way
everywhere, expansions included.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import MetadataSnapshot
from .builder import plan_query
from .expansion import complete, row_dumper
from .fields import QueryContext
from .filters import register_sqlite_functions
from .grammar import parse_query
from .nodes import Query
from .paging import after_parameters, decode_cursor, encode_cursor, fingerprint
from .plans import PlanCache

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
COUNT_CAP = 10_000


@dataclass(frozen=True)
class QueryResult:
    """One page of records.

    ``next_cursor`` is None on the last page. ``count`` is None unless ``count=exact`` was
    asked for; it counts every matching record (not only this page), at most up to the cap:
    when ``count_capped`` is true there are more than ``count`` (render it ``"10000+"``).
    """

    items: list[dict[str, Any]]
    next_cursor: str | None
    count: int | None = None
    count_capped: bool = False

    @property
    def count_label(self) -> str | None:
        """``"57"``, ``"10000+"``, or None when no count was asked for."""
        if self.count is None:
            return None
        return f"{self.count}+" if self.count_capped else str(self.count)


def run_query(
    conn: sa.Connection,
    snapshot: MetadataSnapshot,
    entity: str,
    params: Any,
    *,
    scopes: Mapping[str, sa.ColumnElement[bool]] | None = None,
    hidden: Mapping[str, Collection[str]] | None = None,
    default_limit: int = DEFAULT_LIMIT,
    max_limit: int = MAX_LIMIT,
    count_cap: int = COUNT_CAP,
    cursor_secret: bytes = b"",
    plans: PlanCache | None = None,
) -> QueryResult:
    """Run the query-string ``params`` (or a parsed :class:`Query`) on ``entity``.

    ``scopes`` maps an entity name to a WHERE clause on that entity's table (its permission
    scope); it is applied to the entity queried and to every entity reached through a filter
    path or an expansion. An entity without a scope is unrestricted; pass ``sa.false()`` for
    one the caller may not read at all. ``hidden`` maps an entity name to the fields the caller
    may not read: they are left out of records and refused in filters, sorts and selects.
    ``cursor_secret`` signs cursors (pass the application's secret key). ``plans``: where to
    keep the plans of the queries' shapes, to run them again with other values (see
    :mod:`.plans`); without it the plan is built for this query only.

    Raises :class:`~.errors.InvalidQuery` (HTTP 400) for anything wrong with the query.
    """
    query = params if isinstance(params, Query) else parse_query(params)
    ce = snapshot.entity(entity)
    ctx = QueryContext(snapshot, scopes or {}, hidden or {}, conn.dialect.name)
    if ctx.dialect == "sqlite":
        register_sqlite_functions(conn.connection.driver_connection)
    found = None if plans is None else plans.find(ctx, ce, query, default_limit, max_limit)
    if found is not None:
        cached, values = found
        plan, dump = cached.plan, cached.dump
        order = cached.order
    else:
        plan = plan_query(ce, query, ctx, default_limit=default_limit, max_limit=max_limit)
        values, dump = {}, row_dumper(plan.projection)
        order = tuple((k.ref.name, k.descending, k.nulls_first) for k in plan.keys)
    issued_for = fingerprint(ce.name, list(order), query.filter)
    position = None
    if query.cursor is not None:
        position = decode_cursor(query.cursor, plan.keys, issued_for, cursor_secret)

    items: list[dict[str, Any]] = []
    next_cursor = None
    if plan.limit > 0:
        if found is not None:
            statements = cached.page_statements(position)
            if position is not None:
                values = {**values, **after_parameters(position)}
        else:
            statements = plan.page_statements(position)
        rows: list[Any] = []
        for statement in statements:
            wanted = plan.limit + 1 - len(rows)
            if wanted <= 0:
                break
            if rows:  # a second segment: only what the first did not fill
                statement = statement.limit(wanted)
            rows.extend(conn.execute(statement, values).all())
        if len(rows) > plan.limit:
            rows = rows[: plan.limit]
            first_key = len(plan.projection.columns())
            next_cursor = encode_cursor(list(rows[-1][first_key:]), issued_for, cursor_secret)
        items = [dump(row) for row in rows]
        if plan.projection.expansions or any(f.is_link for f in plan.projection.fields):
            complete(conn, ctx, plan.projection, items, [row._mapping for row in rows])

    count = None
    capped = False
    if plan.count:
        counting = (
            cached.count_statement(count_cap)
            if found is not None
            else plan.count_statement(count_cap)
        )
        count = conn.execute(counting, values).scalar_one()
        if count > count_cap:
            count, capped = count_cap, True
    return QueryResult(items, next_cursor, count, capped)
