"""Query plans built once per shape and run again with new values.

Building a page query (resolving every name against the entity, the filter's SQL, the order,
the keyset clauses) and letting SQLAlchemy find its compiled form again costs more than running
it on SQLite. Lists are asked for in few shapes (the same filters, order and select with other
values), so a :class:`PlanCache` keeps, per metadata snapshot, the checked plan and its
statements for each *shape*: the query without its filter values, plus everything else the SQL
depends on - the scope clause (with its values) and hidden fields of every entity the plan
reads, and the values of the conditions whose SQL depends on them (``is.null``, ``cs``,
money...). A query of a known shape computes its values with the same functions that built the
plan (:mod:`.binds`): checked and converted as when built anew, refused with the same errors.

What cannot differ between two queries sharing a plan: the entity and every entity a path or
expansion reaches (same snapshot), the names, operators, order, select, limit and count (the
shape), the scopes and hidden fields (in the key). Values reach the database only as bind
parameters. A plan is never used for a query whose value would make other SQL (a value that
converts to None), and nothing is cached when a scope clause has no SQLAlchemy cache key.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from .binds import Binds, conditions
from .builder import Projection, QueryPlan, plan_query
from .expansion import row_dumper
from .fields import QueryContext
from .nodes import Condition, Group, Query
from .paging import SortKey

#: Plans kept per snapshot; past it the cache starts over.
MAX_PLANS = 1000


@dataclass
class CachedPlan:
    """A plan built for one shape, with its statements and how to compute its values."""

    plan: QueryPlan
    #: (parameter name, index of its condition, condition -> value), see :class:`.binds.Binds`
    extractors: Sequence[tuple[str, int, Callable[[Condition], Any]]]
    dump: Callable[[Sequence[Any]], dict[str, Any]]
    #: (field, descending, nulls first) of each sort key, for the cursor's fingerprint
    order: tuple[tuple[str, bool, bool], ...]
    _pages: dict[tuple[bool, ...] | None, list[sa.Select]] = field(default_factory=dict)
    _counts: dict[int, sa.Select] = field(default_factory=dict)

    @property
    def projection(self) -> Projection:
        return self.plan.projection

    @property
    def keys(self) -> tuple[SortKey, ...]:
        return self.plan.keys

    @property
    def limit(self) -> int:
        return self.plan.limit

    def parameters(self, conds: Sequence[Condition]) -> dict[str, Any] | None:
        """The bind values for a query of this shape (its conditions, in order); None when a
        value would need other SQL than the plan's."""
        values = {}
        for name, index, compute in self.extractors:
            value = compute(conds[index])
            if value is None:
                return None
            values[name] = value
        return values

    def page_statements(self, position: Sequence[Any] | None) -> list[sa.Select]:
        """As :meth:`QueryPlan.page_statements`, the position's values bound
        (:func:`.paging.after_parameters`); built once per pattern of NULL values."""
        pattern = None if position is None else tuple(v is None for v in position)
        found = self._pages.get(pattern)
        if found is None:
            found = self._pages[pattern] = self.plan.page_statements(position, bound=True)
        return found

    def count_statement(self, cap: int) -> sa.Select:
        found = self._counts.get(cap)
        if found is None:
            found = self._counts[cap] = self.plan.count_statement(cap)
        return found


class PlanCache:
    """Cached plans of one metadata registry, for the latest snapshot a query came with (a
    query with another snapshot starts the cache over)."""

    def __init__(self, size: int = MAX_PLANS):
        self.size = size
        self._lock = threading.Lock()
        self._snapshot: weakref.ref[MetadataSnapshot] | None = None
        self._plans: dict[Hashable, Any] = {}

    def _bucket(self, snapshot: MetadataSnapshot) -> dict[Hashable, Any]:
        with self._lock:
            if self._snapshot is None or self._snapshot() is not snapshot:
                self._snapshot, self._plans = weakref.ref(snapshot), {}
            elif len(self._plans) > self.size:
                self._plans = {}
            return self._plans

    def find(
        self,
        ctx: QueryContext,
        ce: CompiledEntity,
        query: Query,
        default_limit: int,
        max_limit: int,
    ) -> tuple[CachedPlan, dict[str, Any]] | None:
        """The plan for ``query`` on ``ce`` under ``ctx`` (built and kept if new) and its bind
        values; None when it cannot be cached (the caller then builds the plan itself).
        Raises :class:`~.errors.InvalidQuery` as :func:`.builder.plan_query` does."""
        plans = self._bucket(ctx.snapshot)
        conds = list(conditions(query.filter))
        shape = (
            ce.name,
            ctx.dialect,
            default_limit,
            max_limit,
            _filter_shape(query.filter),
            query.order,
            query.select,
            query.limit,
            query.count,
        )
        try:
            known = plans.get(shape)
            if known is not None:
                touched, literals = known
                cached = plans.get((shape, _context_key(ctx, touched, literals, conds)))
                if cached is not None:
                    values = cached.parameters(conds)
                    return None if values is None else (cached, values)
            binds = Binds(conds)
            built = QueryContext(ctx.snapshot, ctx.scopes, ctx.hidden, ctx.dialect, binds=binds)
            plan = plan_query(ce, query, built, default_limit=default_limit, max_limit=max_limit)
            touched, literals = tuple(sorted(built.touched)), tuple(sorted(binds.literals))
            cached = CachedPlan(
                plan=plan,
                extractors=tuple(binds.extractors),
                dump=row_dumper(plan.projection),
                order=tuple((k.ref.name, k.descending, k.nulls_first) for k in plan.keys),
            )
            cached._pages[None] = plan.page_statements(None)
            plans[shape] = (touched, literals)
            plans[(shape, _context_key(ctx, touched, literals, conds))] = cached
        except _Uncacheable:
            return None
        return cached, binds.values


class _Uncacheable(Exception):
    pass


def _context_key(
    ctx: QueryContext, touched: Sequence[str], literals: Sequence[int], conds: list[Condition]
) -> Hashable:
    """What the plan's SQL depends on besides the shape: each touched entity's scope and
    hidden fields, the values of the literal conditions."""
    try:
        scopes = tuple(
            (name, ctx.scope_key(name), frozenset(ctx.hidden.get(name, ()))) for name in touched
        )
    except TypeError:
        raise _Uncacheable from None
    return scopes, tuple(conds[i].value for i in literals)


def _filter_shape(node: Condition | Group) -> Hashable:
    """A filter without its values (whether a list is empty stays: an empty ``in`` is false)."""
    if isinstance(node, Condition):
        empty = not node.value if isinstance(node.value, tuple) else None
        return (node.path, node.op, node.negated, node.parameter, empty)
    return (
        node.kind,
        node.negated,
        node.parameter,
        tuple(_filter_shape(item) for item in node.items),
    )
