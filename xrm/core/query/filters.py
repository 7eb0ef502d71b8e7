"""Filter conditions -> SQL, the same results on SQLite and PostgreSQL.

Values are converted with the field type's own ``coerce`` (lenient, so query-string text such as
``2026-01-01`` or ``10`` is accepted), but without the field's validation constraints: a filter
``age=lt.200`` is a fair question even when ages stop at 150. Where the two databases differ, the
difference is handled here: case-sensitive ``like`` (SQLite's LIKE ignores ASCII case, so GLOB
is used), ``contains`` on a JSON list (PostgreSQL ``@>``, SQLite ``json_each``) and what counts
as an empty JSON value.

Conditions on a path (``account.name=...``, ``tags.name=...``) become ``IN`` subqueries over the
referenced entity that carry that entity's own visibility (not soft-deleted, inside its scope),
so a filter cannot be used to probe records the caller may not see.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ...metadata.compiler import CompiledEntity
from ...metadata.fieldtypes import FieldValueError
from ...metadata.model import freeze
from .errors import InvalidQuery
from .fields import FieldRef, QueryContext
from .nodes import Condition, Group

JSONB = postgresql.JSONB()
MAX_ID = 2**63 - 1
MONEY_VALUE = re.compile(r"^\s*(?:([A-Za-z]{3})[\s+]*)?([^A-Za-z\s+]+)[\s+]*([A-Za-z]{3})?\s*$")


def filter_clause(node: Condition | Group, ce: CompiledEntity, ctx: QueryContext):
    """The WHERE clause of a parsed filter on entity ``ce``."""
    if isinstance(node, Group):
        parts = [filter_clause(item, ce, ctx) for item in node.items]
        if not parts:
            return sa.true()
        expr = sa.and_(*parts) if node.kind == "and" else sa.or_(*parts)
        return sa.not_(expr) if node.negated else expr
    return _condition(node, ce, ctx, node.path)


def _condition(cond: Condition, ce: CompiledEntity, ctx: QueryContext, path: tuple[str, ...]):
    ref = ctx.field(ce, path[0], parameter=cond.parameter)
    if len(path) > 1:
        return _through(cond, ref, ctx, path[1:])
    _check_operator(cond, ref)
    expr = _test(cond, ref, ctx)
    return sa.not_(expr) if cond.negated else expr


def _through(cond: Condition, ref: FieldRef, ctx: QueryContext, rest: tuple[str, ...]):
    """``account.name=...``: the rows whose referenced record passes the rest of the path."""
    if not (ref.is_reference or ref.is_link):
        raise _error(cond, f"{ref.name} is not a reference, so {cond.field} cannot be followed")
    target = ctx.target(ref)
    tt = target.table
    inner = _condition(cond, target, ctx, rest)
    matching = sa.select(tt.c.id).where(inner, *ctx.visible(target)).correlate(None)
    if ref.is_reference:
        return ref.column.in_(matching)
    assoc = ref.entity.associations[ref.name]
    linked = sa.select(assoc.c.source_id).where(assoc.c.target_id.in_(matching)).correlate(None)
    return ref.entity.table.c.id.in_(linked)


def _check_operator(cond: Condition, ref: FieldRef) -> None:
    allowed = ref.entity.operators.get(ref.name, ())
    if cond.op in allowed:
        return
    if not allowed:
        raise _error(cond, f"{ref.entity.name}.{ref.name} cannot be filtered on")
    names = ", ".join("cs" if op == "contains" else op for op in allowed)
    shown = "cs" if cond.op == "contains" else cond.op
    raise _error(
        cond,
        f"{shown} is not allowed on {ref.entity.name}.{ref.name} ({ref.spec.type}); "
        f"use one of {names}",
    )


def _error(cond: Condition, message: str, value: Any = None) -> InvalidQuery:
    return InvalidQuery(
        message,
        parameter=cond.parameter,
        field=cond.field,
        operator="cs" if cond.op == "contains" else cond.op,
        value=cond.value if value is None else value,
    )


def _test(cond: Condition, ref: FieldRef, ctx: QueryContext):
    op = cond.op
    if op == "is":
        ctx.uses_value(cond)
        return _is(cond, ref, ctx)
    if op == "contains":
        ctx.uses_value(cond)
        values = cond.value
        if not values:
            raise _error(cond, "cs needs at least one value, e.g. cs.{a,b}")
        if ref.is_link:
            return _links_contain(ref, coerce_value(cond, ref, list(values)), ctx)
        return json_contains(ref.column, coerce_value(cond, ref, list(values)), ctx.dialect)
    if op in ("like", "ilike"):
        insensitive = op == "ilike"
        dialect = ctx.dialect

        def pattern(c: Condition) -> str:
            return like_pattern(str(c.value), insensitive, dialect)

        return like_clause(ref.column, ctx.value(cond, pattern, sa.String()), insensitive, dialect)
    if len(ref.columns) != 1:
        ctx.uses_value(cond)  # money, regarding: the SQL depends on the value's parts
    if op == "in":
        if not cond.value:
            ctx.uses_value(cond)
            return sa.false()
        if len(ref.columns) == 1:

            def values(c: Condition) -> list[Any]:
                return [coerce_value(c, ref, v) for v in c.value]

            return ref.column.in_(ctx.value(cond, values, ref.column.type, expanding=True))
        return sa.or_(*(_compare(ref, "eq", coerce_value(cond, ref, v)) for v in cond.value))
    if len(ref.columns) == 1:

        def value(c: Condition) -> Any:
            return coerce_value(c, ref, c.value)

        return _COMPARE[op](ref.column, ctx.value(cond, value, ref.column.type))
    return _compare(ref, op, coerce_value(cond, ref, cond.value))


_COMPARE = {
    "eq": lambda c, v: c == v,
    "neq": lambda c, v: c != v,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
}


def _compare(ref: FieldRef, op: str, value: Any):
    if len(ref.columns) == 1:
        return _COMPARE[op](ref.column, value)
    cols = [ref.entity.table.c[c] for c in ref.columns]
    if ref.spec.type == "money":
        amount, currency = value
        if op == "neq":
            return sa.not_(_compare(ref, "eq", value))
        expr = _COMPARE[op](cols[0], amount)
        return expr if currency is None else sa.and_(expr, cols[1] == currency)
    # regarding: only eq is allowed
    return sa.and_(cols[0] == value[0], cols[1] == value[1])


def _is(cond: Condition, ref: FieldRef, ctx: QueryContext):
    if cond.value in ("true", "false"):
        if ref.spec.type != "boolean":
            raise _error(cond, f"is.{cond.value} applies to yes/no fields only; use is.null")
        return ref.column.is_(sa.true() if cond.value == "true" else sa.false())
    null = _is_empty(ref, ctx)
    return null if cond.value == "null" else sa.not_(null)


def _is_empty(ref: FieldRef, ctx: QueryContext):
    """Null, and for list-like fields also empty: no visible link, an empty choice list."""
    kind = ref.spec.type
    if ref.is_link:
        target = ctx.target(ref)
        tt = target.table
        assoc = ref.entity.associations[ref.name]
        linked = (
            sa.select(assoc.c.source_id)
            .select_from(assoc.join(tt, tt.c.id == assoc.c.target_id))
            .where(*ctx.visible(target))
            .correlate(None)
        )
        return ref.entity.table.c.id.not_in(linked)
    col = ref.entity.table.c[ref.columns[0]]
    if kind in ("multichoice", "json"):
        return sa.or_(col.is_(None), json_is_empty(col, ctx.dialect, kind == "multichoice"))
    return col.is_(None)


def _links_contain(ref: FieldRef, ids: list[int], ctx: QueryContext):
    """Rows linked to every one of ``ids`` (that the caller can see)."""
    target = ctx.target(ref)
    tt = target.table
    assoc = ref.entity.associations[ref.name]
    linked = (
        sa.select(assoc.c.source_id)
        .select_from(assoc.join(tt, tt.c.id == assoc.c.target_id))
        .where(assoc.c.target_id.in_(ids), *ctx.visible(target))
        .group_by(assoc.c.source_id)
        .having(sa.func.count() == len(ids))
        .correlate(None)
    )
    return ref.entity.table.c.id.in_(linked)


# -- values ---------------------------------------------------------------------------------------


def coerce_value(cond: Condition, ref: FieldRef, raw: Any) -> Any:
    """Query-string text -> the Python value the field stores, or a 400 naming all of it."""
    spec = _relaxed(ref.spec)
    try:
        if spec.type == "money":
            return _money(ref, spec, raw)
        if spec.type == "regarding":
            value = _regarding(ref, spec, raw)
            _check_ids([value[1]])
            return value
        value = ref.type.coerce(spec, raw, True)
        if spec.type in ("reference", "manytomany"):
            _check_ids(value if isinstance(value, list) else [value])
        return value
    except FieldValueError as exc:
        raise _error(cond, f"{ref.label} {exc}", raw) from None
    except (ArithmeticError, ValueError, TypeError):
        # Some coercions raise these for extreme input (a decimal exponent of 999999, a date
        # pushed past year 1 by its offset): still the caller's value, still a 400.
        raise _error(cond, f"{ref.label} cannot be read from {raw!r}", raw) from None


def _check_ids(ids: list[int]) -> None:
    # Record ids are 64-bit: a larger number would be a database error, not "no match".
    if any(i > MAX_ID for i in ids):
        raise FieldValueError(f"a record id is at most {MAX_ID}")


def _relaxed(spec):
    """The spec without validation constraints (lengths, ranges, patterns, formats); choice
    fields keep their list of values, so a misspelt value is an error rather than no match."""
    schema: dict[str, Any] = {"maxLength": None}
    if spec.kw("enum") is not None:
        schema["enum"] = spec.kw("enum")
    return dataclasses.replace(spec, schema=freeze(schema))


def _money(ref: FieldRef, spec, raw: str) -> tuple[Any, str | None]:
    """``10``, ``10 EUR`` or ``EUR 10``: compare the amount, and the currency when given."""
    m = MONEY_VALUE.match(str(raw))
    if not m:
        raise FieldValueError(f"{raw!r} is not an amount such as 10, 10 EUR or EUR 10")
    if m.group(1) and m.group(3):
        raise FieldValueError(f"{raw!r} names two currencies")
    currency = (m.group(1) or m.group(3) or "").upper() or None
    placeholder = currency or spec.opt("defaultCurrency") or (spec.opt("currencies") or ["XXX"])[0]
    value, _ = ref.type.coerce(spec, {"amount": m.group(2), "currency": placeholder}, True)
    return value, currency


def _regarding(ref: FieldRef, spec, raw: str) -> tuple[str, int]:
    """``crm.account:42`` -> (entity, id)."""
    entity, sep, record_id = str(raw).rpartition(":")
    if not sep:
        raise FieldValueError(f"expected <entity>:<id> such as crm.account:42, got {raw!r}")
    return ref.type.coerce(spec, {"entity": entity, "id": record_id}, True)


# -- dialect differences --------------------------------------------------------------------------


def _pattern_tokens(pattern: str) -> list[tuple[str, str]]:
    """``*`` and ``%`` match any run of characters, ``_`` one character, ``\\`` escapes."""
    tokens = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            tokens.append(("lit", pattern[i + 1]))
            i += 2
            continue
        if c in "*%":
            tokens.append(("any", ""))
        elif c == "_":
            tokens.append(("one", ""))
        else:
            tokens.append(("lit", c))
        i += 1
    return tokens


def _like_pattern(tokens: list[tuple[str, str]]) -> str:
    out = []
    for kind, c in tokens:
        if kind == "any":
            out.append("%")
        elif kind == "one":
            out.append("_")
        else:
            out.append("\\" + c if c in "%_\\" else c)
    return "".join(out)


def _glob_pattern(tokens: list[tuple[str, str]]) -> str:
    out = []
    for kind, c in tokens:
        if kind == "any":
            out.append("*")
        elif kind == "one":
            out.append("?")
        else:
            out.append(f"[{c}]" if c in "*?[" else c)
    return "".join(out)


def like(col, pattern: str, insensitive: bool, dialect: str):
    """``like``/``ilike`` with the same meaning on both databases. SQLite's LIKE ignores ASCII
    case, so the case-sensitive ``like`` uses GLOB there."""
    return like_clause(col, like_pattern(pattern, insensitive, dialect), insensitive, dialect)


def like_pattern(pattern: str, insensitive: bool, dialect: str) -> str:
    """The query's pattern (``*``, ``%``, ``_``, ``\\``) in the syntax :func:`like_clause`
    compares with: GLOB for a case-sensitive ``like`` on SQLite, else LIKE."""
    tokens = _pattern_tokens(pattern)
    if not insensitive and dialect == "sqlite":
        return _glob_pattern(tokens)
    return _like_pattern(tokens)


def like_clause(col, pattern: Any, insensitive: bool, dialect: str):
    """``col`` matching ``pattern`` (made by :func:`like_pattern`; a value or an SQL
    expression such as a bind parameter)."""
    if insensitive and dialect == "sqlite":
        # SQLite's lower() and LIKE fold ASCII only; xrm_lower is Python's str.lower, which
        # folds like PostgreSQL's ILIKE ('MÜLLER' ilike 'müller' on both).
        lowered = _sql_function("xrm_lower", col)
        return lowered.like(_sql_function("xrm_lower", pattern), escape="\\")
    if insensitive:
        return col.ilike(pattern, escape="\\")
    if dialect == "sqlite":
        return col.op("GLOB")(pattern)
    return col.like(pattern, escape="\\")


def _sql_function(name: str, *args: Any):
    # A plain Function, not ``sa.func.<name>``: libraries register GenericFunctions under
    # these names (sqlalchemy-utils' json_array_length) that would be used instead.
    return sa.sql.functions.Function(name, *args)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a SQLite connection the functions these filters use (cheap, idempotent)."""
    dbapi_connection.create_function("xrm_lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def json_contains(col, values: list[Any], dialect: str):
    """A JSON list column holding every one of ``values``."""
    if dialect == "postgresql":
        # NULL @> ... is NULL; coalesce keeps it two-valued like the SQLite form below.
        return sa.func.coalesce(sa.type_coerce(col, JSONB).contains(values), sa.false())
    tests = []
    for value in values:
        each = _sql_function("json_each", col).table_valued("value")
        tests.append(
            sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == value))
        )
    return sa.and_(*tests)


def json_is_empty(col, dialect: str, array: bool):
    """A JSON column holding JSON null (or, for lists, an empty list)."""
    if dialect == "postgresql":
        text = sa.cast(col, sa.Text)
        return text.in_(["null", "[]"]) if array else text == "null"
    null = _sql_function("json_type", col) == "null"
    return sa.or_(null, _sql_function("json_array_length", col) == 0) if array else null
