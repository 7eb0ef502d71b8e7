"""The query runner: PostgREST-style filters, sorting, field selection, expansion, keyset
paging and capped counts over entity records, with permission scopes and hidden fields applied
in SQL. Pure core: no Flask. The grammar is documented in ``docs/api.md``.

Public API::

    result = run_query(conn, snapshot, "crm.contact", request_args,
                       scopes={"crm.contact": clause, ...}, hidden={"crm.contact": {"salary"}})
    result.items, result.next_cursor, result.count, result.count_label
"""

from __future__ import annotations

from .builder import Projection, QueryPlan, plan_query
from .errors import FieldNotReadable, InvalidCursor, InvalidQuery
from .fields import QueryContext
from .grammar import parse_query
from .nodes import Condition, Group, Query, SelectItem, SortTerm
from .runner import COUNT_CAP, DEFAULT_LIMIT, MAX_LIMIT, QueryResult, run_query

__all__ = [
    "COUNT_CAP",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Condition",
    "FieldNotReadable",
    "Group",
    "InvalidCursor",
    "InvalidQuery",
    "Projection",
    "Query",
    "QueryContext",
    "QueryPlan",
    "QueryResult",
    "SelectItem",
    "SortTerm",
    "parse_query",
    "plan_query",
    "run_query",
]
