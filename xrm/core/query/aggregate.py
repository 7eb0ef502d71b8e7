"""Grouped aggregates over entity records: the numbers behind dashboards and charts.

``run_aggregate`` counts and sums on the same footing as :func:`~.runner.run_query`: the filter
grammar, soft deletion, the caller's permission scope and hidden fields all come from the one
query context, so a chart can never show more than the list it summarises.

::

    GET /api/v1/data/crm.opportunity/aggregate?group=stage&measure=count,sum.amount&status=eq.open

    {"entity": "crm.opportunity", "group": "stage", "measures": ["count", "sum.amount"],
     "items": [{"key": "draft", "count": 3, "sum.amount": "1200.00"}, ...]}

- ``group``: a field to group by (text, choice, boolean, numbers, reference, date, datetime,
  autonumber, uuid); dates and datetimes may be bucketed with ``:day``, ``:month`` or ``:year``
  (``created_at:month`` -> keys ``"2026-03"``). Without ``group``, one item with ``key`` null.
- ``measure``: comma-separated ``count``, ``sum.<f>``, ``avg.<f>``, ``min.<f>``, ``max.<f>``
  (``sum:<f>`` is accepted too, as dashboard documents write it). Sums and averages take
  number and money fields; min and max also dates. Default ``count``.
- ``limit``: at most this many groups (default and maximum 1000), the largest keys last.
- Every other parameter is a filter of the list grammar (docs/api.md).

A money measure answers ``{"amount": "...", "currency": "EUR"}``; the currency is null when
the group mixes currencies (amounts in different currencies are summed as numbers; filter on the
currency to get a meaningful total). Decimal results are strings, as in records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import MetadataSnapshot
from .errors import InvalidQuery
from .fields import FieldRef, QueryContext
from .filters import filter_clause, register_sqlite_functions
from .grammar import _pairs, parse_query
from .lexical import check_text

MAX_GROUPS = 1000
FUNCTIONS = ("count", "sum", "avg", "min", "max")
NUMERIC = ("integer", "bigint", "decimal", "float", "money")
GROUPABLE = (
    "text",
    "choice",
    "boolean",
    "integer",
    "bigint",
    "decimal",
    "float",
    "reference",
    "date",
    "datetime",
    "autonumber",
    "uuid",
)
BUCKETS = {"day": ("%Y-%m-%d", "YYYY-MM-DD"), "month": ("%Y-%m", "YYYY-MM"), "year": ("%Y", "YYYY")}


@dataclass(frozen=True)
class Measure:
    key: str  # canonical: "count" or "sum.amount"
    function: str
    ref: FieldRef | None = None


@dataclass(frozen=True)
class AggregateResult:
    entity: str
    group: str | None
    measures: tuple[str, ...]
    items: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "group": self.group,
            "measures": list(self.measures),
            "items": self.items,
        }


def parse_measures(text: str, ce, ctx: QueryContext) -> list[Measure]:
    out: list[Measure] = []
    for raw in (p.strip() for p in (text or "count").split(",")):
        if not raw:
            raise InvalidQuery("an empty measure; use count or sum.<field>", parameter="measure")
        if raw == "count":
            out.append(Measure("count", "count"))
            continue
        fn, sep, name = raw.replace(":", ".", 1).partition(".")
        if not sep or fn not in FUNCTIONS or fn == "count":
            raise InvalidQuery(
                f"{raw!r} is not a measure; use count, sum.<field>, avg.<field>, min.<field> "
                "or max.<field>",
                parameter="measure",
                value=raw,
            )
        ref = ctx.field(ce, name, parameter="measure")
        kind = ref.spec.type
        allowed = NUMERIC + (("date", "datetime") if fn in ("min", "max") else ())
        if kind not in allowed:
            raise InvalidQuery(
                f"{fn} is not possible on {ce.name}.{name} ({kind}); "
                f"{fn} takes {', '.join(allowed)} fields",
                parameter="measure",
                field=name,
                value=raw,
            )
        out.append(Measure(f"{fn}.{name}", fn, ref))
    if len({m.key for m in out}) != len(out):
        raise InvalidQuery("a measure is given twice", parameter="measure")
    return out


def _group_expression(text: str, ce, ctx: QueryContext):
    name, _, bucket = text.partition(":")
    ref = ctx.field(ce, name, parameter="group")
    if ref.spec.type not in GROUPABLE:
        raise InvalidQuery(
            f"{ce.name}.{name} ({ref.spec.type}) cannot be grouped by; group by one of the "
            f"types {', '.join(GROUPABLE)}",
            parameter="group",
            field=name,
        )
    column = ref.column
    if bucket:
        if bucket not in BUCKETS or ref.spec.type not in ("date", "datetime"):
            raise InvalidQuery(
                f"{text!r}: only date and datetime fields take a bucket, one of "
                f"{', '.join(BUCKETS)}",
                parameter="group",
                field=name,
                value=bucket,
            )
        sqlite_fmt, pg_fmt = BUCKETS[bucket]
        # Literal formats: a bound parameter would make GROUP BY and SELECT differ on PostgreSQL.
        if ctx.dialect == "sqlite":
            return ref, sa.func.strftime(sa.literal_column(f"'{sqlite_fmt}'"), column), True
        return ref, sa.func.to_char(column, sa.literal_column(f"'{pg_fmt}'")), True
    return ref, column, False


def _measure_columns(m: Measure, ce) -> list[sa.ColumnElement]:
    if m.function == "count":
        return [sa.func.count().label(m.key)]
    t = ce.table
    cols = m.ref.columns
    value = t.c[cols[0]]
    fn = getattr(sa.func, m.function)
    out = [fn(value).label(m.key)]
    if m.ref.spec.type == "money":
        currency = t.c[cols[1]]
        out += [
            sa.func.min(currency).label(f"{m.key}#c0"),
            sa.func.max(currency).label(f"{m.key}#c1"),
        ]
    return out


def _json_number(value: Any, kind: str, function: str) -> Any:
    if value is None:
        return None
    if kind in ("integer", "bigint") and function in ("sum", "min", "max"):
        return int(value)
    if kind == "float" or (function == "avg" and kind in ("integer", "bigint")):
        return float(value)
    if kind in ("date", "datetime"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    return str(value if isinstance(value, Decimal) else Decimal(str(value)))


def run_aggregate(
    conn: sa.Connection,
    snapshot: MetadataSnapshot,
    entity: str,
    params: Any,
    *,
    scopes: Mapping[str, sa.ColumnElement[bool]] | None = None,
    hidden: Mapping[str, Any] | None = None,
) -> AggregateResult:
    """Group the records of ``entity`` matching the filters of ``params`` and measure them.

    Raises :class:`~.errors.InvalidQuery` (400) for an unknown or hidden field, a field that
    cannot be grouped or measured, or an invalid filter.
    """
    pairs = _pairs(params)
    controls: dict[str, str] = {}
    rest = []
    for key, value in pairs:
        if key in ("group", "measure"):
            check_text(value, key)
            if key in controls:
                raise InvalidQuery("is given more than once", parameter=key)
            controls[key] = value
        else:
            rest.append((key, value))
    query = parse_query(rest)
    for word, given in (
        ("select", query.select),
        ("order", query.order),
        ("cursor", query.cursor),
        ("count", query.count),
    ):
        if given:
            raise InvalidQuery(f"{word} does not apply to aggregates", parameter=word)
    limit = MAX_GROUPS if query.limit is None else query.limit
    if limit > MAX_GROUPS:
        raise InvalidQuery(
            f"limit must be at most {MAX_GROUPS}, not {limit}", parameter="limit", value=limit
        )
    ce = snapshot.entity(entity)
    ctx = QueryContext(snapshot, scopes or {}, hidden or {}, conn.dialect.name)
    if ctx.dialect == "sqlite":
        register_sqlite_functions(conn.connection.driver_connection)
    measures = parse_measures(controls.get("measure", "count"), ce, ctx)
    where = (*ctx.visible(ce), filter_clause(query.filter, ce, ctx))
    columns = [c for m in measures for c in _measure_columns(m, ce)]
    group_text = controls.get("group")
    if group_text:
        ref, key_expr, bucketed = _group_expression(group_text, ce, ctx)
        key = key_expr.label("key")
        statement = (
            sa.select(key, *columns)
            .where(*where)
            .group_by(key_expr)
            .order_by(sa.nulls_last(key_expr.asc()))
            .limit(limit)
        )
    else:
        ref, bucketed = None, False
        statement = sa.select(*columns).where(*where)
    items = []
    for row in conn.execute(statement).mappings():
        item: dict[str, Any] = {"key": None}
        if ref is not None:
            raw = row["key"]
            item["key"] = raw if bucketed or raw is None else ref.type.dump(ref.spec, raw)
        for m in measures:
            if m.function == "count":
                item[m.key] = int(row[m.key])
                continue
            kind = m.ref.spec.type
            if kind == "money":
                lo, hi = row[f"{m.key}#c0"], row[f"{m.key}#c1"]
                amount = _json_number(row[m.key], "decimal", m.function)
                item[m.key] = {"amount": amount, "currency": lo if lo == hi else None}
            else:
                item[m.key] = _json_number(row[m.key], kind, m.function)
        items.append(item)
    return AggregateResult(entity, group_text, tuple(m.key for m in measures), items)
