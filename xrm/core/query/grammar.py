"""Parse query-string pairs into a :class:`~.nodes.Query` (PostgREST-style grammar).

Pure text processing: no metadata, no SQL. Field names are checked for their shape only; whether
they exist, may be read, and what their values mean is the builder's business. Every error is an
:class:`~.errors.InvalidQuery` naming the parameter, and the field, operator and value where
they are known. The grammar itself is documented in ``docs/api.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InvalidQuery
from .lexical import check_text, split_top, unquote
from .nodes import (
    IS_VALUES,
    OPERATOR_ALIASES,
    OPERATORS,
    Condition,
    Group,
    Query,
    SelectItem,
    SortTerm,
)

#: Parameters that are not filters. ``offset`` is refused with a pointer to the cursor.
CONTROL_PARAMETERS = ("select", "order", "limit", "cursor", "count")
GROUP_PARAMETERS = ("or", "and", "not.or", "not.and")

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
NESTED_GROUP = re.compile(r"^(not\.)?(and|or)(\(.*\))$", re.DOTALL)
SELECT_ITEM = re.compile(r"^(\*|[a-z][a-z0-9_]*)(?:\((.*)\))?$", re.DOTALL)

#: Hops in a filter path: ``account.parent.name`` is two.
MAX_PATH_HOPS = 2
#: Nesting of and/or groups, and the number of conditions in one query.
MAX_GROUP_DEPTH = 8
MAX_CONDITIONS = 100
#: Values in one in/cs list, and in all lists of a query (each is one bound parameter).
MAX_LIST_VALUES = 1000
MAX_LIST_VALUES_PER_QUERY = 5000
#: Nesting of expansions: ``account(parent(name))`` is two.
MAX_EXPANSION_DEPTH = 2


def parse_query(params: Any) -> Query:
    """Parse query-string pairs into a :class:`Query`.

    ``params`` is a mapping (values a string or a list of strings), a multi-dict with
    ``getlist`` (Werkzeug's ``request.args``), or an iterable of ``(name, value)`` pairs.
    A filter parameter may repeat (``amount=gt.10&amount=lt.20``); the others may not.
    """
    controls: dict[str, str] = {}
    items: list[Condition | Group] = []
    for key, value in _pairs(params):
        check_text(key, key)
        check_text(value, key)
        if key in CONTROL_PARAMETERS:
            if key in controls:
                raise InvalidQuery("is given more than once", parameter=key)
            controls[key] = value
        elif key == "offset":
            raise InvalidQuery(
                "offset paging is not supported; pass the next_cursor of the previous page "
                "as cursor",
                parameter=key,
            )
        elif key in GROUP_PARAMETERS:
            negated = key.startswith("not.")
            kind = key.removeprefix("not.")
            items.append(_parse_group(kind, value, negated, key, depth=1))
        else:
            items.append(_parse_filter(key, value))
    root = Group("and", tuple(items))
    if _count_conditions(root) > MAX_CONDITIONS:
        raise InvalidQuery(f"a query may have at most {MAX_CONDITIONS} conditions")
    if _count_list_values(root) > MAX_LIST_VALUES_PER_QUERY:
        raise InvalidQuery(
            f"a query may list at most {MAX_LIST_VALUES_PER_QUERY} values in all its in/cs lists"
        )
    return Query(
        filter=root,
        order=parse_order(controls["order"]) if "order" in controls else (),
        select=parse_select(controls["select"]) if "select" in controls else None,
        limit=_parse_limit(controls["limit"]) if "limit" in controls else None,
        cursor=_parse_cursor(controls["cursor"]) if "cursor" in controls else None,
        count=_parse_count(controls["count"]) if "count" in controls else False,
    )


def _pairs(params: Any) -> Iterable[tuple[str, str]]:
    if params is None:
        return []
    if hasattr(params, "getlist"):
        return [(k, v) for k in params for v in params.getlist(k)]
    if isinstance(params, Mapping):
        out = []
        for k, v in params.items():
            for item in v if isinstance(v, list | tuple) else [v]:
                out.append((k, item))
        return out
    return list(params)


# -- filters --------------------------------------------------------------------------------------


def _parse_filter(key: str, text: str) -> Condition:
    path = _parse_path(key.split("."), key, key)
    op, value, negated = _parse_operation(text, key, key, in_group=False)
    return Condition(path, op, value, negated, key)


def _parse_path(segments: list[str], parameter: str, field: str) -> tuple[str, ...]:
    for seg in segments:
        if not NAME.match(seg):
            raise InvalidQuery(
                f"{seg!r} is not a field name (lower-case letters, digits and _)",
                parameter=parameter,
                field=field,
            )
    if len(segments) > MAX_PATH_HOPS + 1:
        raise InvalidQuery(
            f"a filter may follow at most {MAX_PATH_HOPS} references ({field})",
            parameter=parameter,
            field=field,
        )
    return tuple(segments)


def _canonical(op: str) -> str:
    return OPERATOR_ALIASES.get(op, op)


def _parse_operation(
    text: str, parameter: str, field: str, *, in_group: bool
) -> tuple[str, str | tuple[str, ...], bool]:
    """``[not.]op.value`` -> (operator, value, negated)."""
    negated = text.startswith("not.")
    rest = text[4:] if negated else text
    name, sep, raw = rest.partition(".")
    op = _canonical(name)
    if op not in OPERATORS:
        known = ", ".join(op for op in OPERATORS if op != "contains")
        if not sep:
            hint = f"expected <operator>.<value>, e.g. {field}=eq.{text}"
        else:
            hint = f"unknown operator {name!r}; use one of {known}, cs"
        operator = name if sep else None
        raise InvalidQuery(hint, parameter=parameter, field=field, operator=operator, value=text)
    if not sep:
        raise InvalidQuery(
            f"{name} needs a value, e.g. {field}={name}.<value>",
            parameter=parameter,
            field=field,
            operator=op,
        )
    return op, _parse_value(op, raw, parameter, field, in_group), negated


def _parse_value(
    op: str, raw: str, parameter: str, field: str, in_group: bool
) -> str | tuple[str, ...]:
    if op == "in":
        return _parse_list(raw, "(", ")", op, parameter, field)
    if op == "contains":
        return _parse_list(raw, "{", "}", op, parameter, field)
    if op == "is":
        if raw not in IS_VALUES:
            raise InvalidQuery(
                f"is takes {', '.join(IS_VALUES)}, not {raw!r}",
                parameter=parameter,
                field=field,
                operator=op,
                value=raw,
            )
        return raw
    return unquote(raw.strip()) if in_group else raw


def _parse_list(
    raw: str, opening: str, closing: str, op: str, parameter: str, field: str
) -> tuple[str, ...]:
    name = "cs" if op == "contains" else op
    if not (raw.startswith(opening) and raw.endswith(closing)) or len(raw) < 2:
        raise InvalidQuery(
            f"{name} takes a list in {opening}{closing}, e.g. {field}={name}.{opening}a,b{closing}",
            parameter=parameter,
            field=field,
            operator=op,
            value=raw,
        )
    inner = raw[1:-1]
    if not inner.strip():
        return ()
    values = tuple(unquote(part.strip()) for part in split_top(inner, parameter))
    if len(values) > MAX_LIST_VALUES:
        raise InvalidQuery(
            f"{name} may list at most {MAX_LIST_VALUES} values ({len(values)} given)",
            parameter=parameter,
            field=field,
            operator=op,
        )
    return values


# -- and/or groups --------------------------------------------------------------------------------


def _parse_group(kind: str, text: str, negated: bool, parameter: str, depth: int) -> Group:
    if depth > MAX_GROUP_DEPTH:
        raise InvalidQuery(
            f"and/or groups may be nested at most {MAX_GROUP_DEPTH} deep", parameter=parameter
        )
    text = text.strip()
    if not (text.startswith("(") and text.endswith(")")):
        raise InvalidQuery(
            f"expected a list of conditions in (), e.g. {parameter}=(name.eq.Acme,city.eq.Paris)",
            parameter=parameter,
            value=text,
        )
    inner = text[1:-1]
    if not inner.strip():
        raise InvalidQuery(f"the {kind} group is empty", parameter=parameter)
    items: list[Condition | Group] = []
    for part in split_top(inner, parameter):
        part = part.strip()
        nested = NESTED_GROUP.match(part)
        if nested:
            items.append(
                _parse_group(
                    nested.group(2), nested.group(3), bool(nested.group(1)), parameter, depth + 1
                )
            )
        else:
            items.append(_parse_group_condition(part, parameter))
    return Group(kind, tuple(items), negated, parameter)  # type: ignore[arg-type]


def _parse_group_condition(text: str, parameter: str) -> Condition:
    """``account.name.not.ilike.*acme*``: the path ends where the first operator begins."""
    segments = text.split(".")
    for i in range(1, len(segments)):
        seg = segments[i]
        if _canonical(seg) in OPERATORS:
            break
        if seg == "not" and i + 1 < len(segments) and _canonical(segments[i + 1]) in OPERATORS:
            break
    else:
        raise InvalidQuery(
            f"{text!r} is not a condition; expected field.operator.value, e.g. name.eq.Acme",
            parameter=parameter,
            value=text,
        )
    field = ".".join(segments[:i])
    path = _parse_path(segments[:i], parameter, field)
    op, value, negated = _parse_operation(".".join(segments[i:]), parameter, field, in_group=True)
    return Condition(path, op, value, negated, parameter)


def _count_list_values(node: Condition | Group) -> int:
    if isinstance(node, Condition):
        return len(node.value) if isinstance(node.value, tuple) else 0
    return sum(_count_list_values(item) for item in node.items)


def _count_conditions(node: Condition | Group) -> int:
    if isinstance(node, Condition):
        return 1
    return sum(_count_conditions(item) for item in node.items)


# -- order, select, limit, cursor, count ----------------------------------------------------------


def parse_order(text: str) -> tuple[SortTerm, ...]:
    """``name.asc,created_at.desc.nullslast`` -> sort terms."""
    if not text.strip():
        raise InvalidQuery("order is empty; e.g. order=name.asc,created_at.desc", parameter="order")
    terms: list[SortTerm] = []
    for raw in text.split(","):
        raw = raw.strip()
        segments = raw.split(".")
        nulls_first = None
        descending = False
        if len(segments) > 1 and segments[-1] in ("nullsfirst", "nullslast"):
            nulls_first = segments.pop() == "nullsfirst"
        if len(segments) > 1 and segments[-1] in ("asc", "desc"):
            descending = segments.pop() == "desc"
        if len(segments) != 1 or not NAME.match(segments[0]):
            note = ""
            if len(segments) > 1 and all(NAME.match(s) for s in segments):
                note = " (sorting on a field of a referenced record is not supported)"
            raise InvalidQuery(
                f"{raw!r} is not a sort term; expected "
                f"field[.asc|.desc][.nullsfirst|.nullslast]{note}",
                parameter="order",
                value=raw,
            )
        name = segments[0]
        if any(t.field == name for t in terms):
            raise InvalidQuery(f"{name} is sorted on twice", parameter="order", field=name)
        terms.append(SortTerm(name, descending, nulls_first))
    return tuple(terms)


def parse_select(text: str, depth: int = 0) -> tuple[SelectItem, ...]:
    """``name,account(name,parent(name)),tags(name)`` -> select items."""
    if not text.strip():
        raise InvalidQuery("select lists no field; e.g. select=id,name", parameter="select")
    items: list[SelectItem] = []
    for part in split_top(text, "select"):
        part = part.strip()
        m = SELECT_ITEM.match(part)
        if not m:
            raise InvalidQuery(
                f"{part!r} is not a field or an expansion such as account(name)",
                parameter="select",
                value=part,
            )
        name, inner = m.group(1), m.group(2)
        children = None
        if inner is not None:
            if name == "*":
                raise InvalidQuery("* cannot be expanded", parameter="select", value=part)
            if depth + 1 > MAX_EXPANSION_DEPTH:
                raise InvalidQuery(
                    f"expansions go at most {MAX_EXPANSION_DEPTH} levels deep ({part})",
                    parameter="select",
                    field=name,
                )
            if not inner.strip():
                raise InvalidQuery(
                    f"{name}() lists no field; e.g. {name}(id) or {name}(*)",
                    parameter="select",
                    field=name,
                )
            children = parse_select(inner, depth + 1)
        if any(i.name == name for i in items):
            raise InvalidQuery(f"{name} is selected twice", parameter="select", field=name)
        items.append(SelectItem(name, children))
    return tuple(items)


def _parse_limit(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()):
        raise InvalidQuery(
            f"limit must be a whole number, not {text!r}", parameter="limit", value=text
        )
    return int(text)


def _parse_cursor(text: str) -> str:
    if not text:
        raise InvalidQuery("cursor is empty", parameter="cursor")
    return text


def _parse_count(text: str) -> bool:
    if text != "exact":
        raise InvalidQuery(f"count takes exact, not {text!r}", parameter="count", value=text)
    return True
