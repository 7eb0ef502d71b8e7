"""The query parameters of a list operation: one filter per field, groups, order, select,
limit, cursor and count, as the query grammar (docs/api.md) defines them."""

from __future__ import annotations

from typing import Any

from ...core.query.grammar import CONTROL_PARAMETERS, GROUP_PARAMETERS
from ...metadata.compiler import CompiledEntity
from .common import ref
from .record_schemas import EXPANDABLE

#: Query words that can never be a filter parameter (a field so named is filtered in a group).
QUERY_WORDS = frozenset(CONTROL_PARAMETERS) | frozenset(GROUP_PARAMETERS) | {"offset"}

#: The grammar's spelling of operators ("contains" is written ``cs``).
SPELLING = {"contains": "cs"}

#: A filter value that shows the form, per field type (in descriptions only: an ``example``
#: would pre-fill every filter of Swagger UI's "Try it out" and filter everything away).
SAMPLE_FILTER = {
    "text": "eq.Acme",
    "longtext": "ilike.*renewal*",
    "autonumber": "eq.C-2026-00042",
    "integer": "gt.10",
    "bigint": "gt.10",
    "decimal": "gte.4.5",
    "float": "gte.4.5",
    "money": "gte.100 EUR",
    "boolean": "is.true",
    "date": "gte.2026-01-31",
    "datetime": "gte.2026-01-31T08:00:00Z",
    "reference": "eq.42",
    "manytomany": "cs.{3,7}",
    "regarding": "eq.crm.account:42",
    "uuid": "eq.0b7e7c1e-4c1f-4b8e-9a57-6a0f2f7f0c11",
    "json": "is.null",
}
SYSTEM_FILTERS = {
    "id": ("id", "in.(1,2,3)"),
    "created_at": ("date-time", "gte.2026-01-01"),
    "updated_at": ("date-time", "gte.2026-01-01"),
    "created_by": ("user id", "eq.1"),
    "updated_by": ("user id", "eq.1"),
    "owner_id": ("user id", "eq.1"),
}


def _operators(ops: tuple[str, ...]) -> list[str]:
    return [SPELLING.get(op, op) for op in ops]


def filter_parameters(ce: CompiledEntity) -> list[dict[str, Any]]:
    """One query parameter per filterable field, describing its operators."""
    out = []
    for field, ops in ce.operators.items():
        if field in QUERY_WORDS:
            continue
        spelled = _operators(ops)
        cf = ce.fields.get(field)
        if cf is not None:
            label, kind = cf.spec.label, cf.spec.type
            sample = SAMPLE_FILTER.get(kind, f"{spelled[0]}.value")
            if kind == "choice" and cf.spec.kw("enum"):
                sample = f"in.({','.join(cf.spec.kw('enum')[:2])})"
            elif kind == "multichoice" and cf.spec.kw("enum"):
                sample = f"cs.{{{cf.spec.kw('enum')[0]}}}"
        else:
            label = field
            kind, sample = SYSTEM_FILTERS[field]
        ops_text = ", ".join(f"`{op}`" for op in spelled)
        out.append(
            {
                "name": field,
                "in": "query",
                "required": False,
                "description": f"Filter on {label} ({kind}): `<operator>.<value>` with "
                f"{ops_text}; prefix `not.` to negate. Example: `{field}={sample}`.",
                "schema": {
                    "type": "string",
                    "pattern": f"^(not\\.)?({'|'.join(spelled)})\\.",
                },
            }
        )
    return out


def _order_parameter(ce: CompiledEntity) -> dict[str, Any]:
    fields = sorted(ce.sortable)
    term = f"({'|'.join(fields)})(\\.(asc|desc))?(\\.(nullsfirst|nullslast))?"
    return {
        "name": "order",
        "in": "query",
        "required": False,
        "description": "Sort order: `field[.asc|.desc][.nullsfirst|.nullslast]`, "
        "comma-separated; `id` always breaks ties. Sortable: "
        + ", ".join(f"`{f}`" for f in fields)
        + ".",
        "schema": {"type": "string", "pattern": f"^{term}(,{term})*$"},
    }


def _select_parameter(ce: CompiledEntity) -> dict[str, Any]:
    expandable = [f.name for f in ce.fields.values() if f.spec.type in EXPANDABLE]
    text = (
        "Fields to return, comma-separated (`id` always comes first; `*` is every readable "
        "field). Fields: " + ", ".join(f"`{f}`" for f in ce.record_schema["properties"]) + "."
    )
    if expandable:
        text += (
            " Expand a reference into the referenced record's fields with `field(f1,f2)`, "
            "up to two levels: " + ", ".join(f"`{f}(...)`" for f in expandable) + "."
        )
    return {
        "name": "select",
        "in": "query",
        "required": False,
        "description": text,
        "schema": {"type": "string"},
    }


def list_parameters(ce: CompiledEntity) -> list[dict[str, Any]]:
    return [
        *filter_parameters(ce),
        *(ref("parameters", p) for p in ("Or", "And", "NotOr", "NotAnd")),
        _order_parameter(ce),
        _select_parameter(ce),
        ref("parameters", "Limit"),
        ref("parameters", "Cursor"),
        ref("parameters", "Count"),
    ]


SHARED_PARAMETERS: dict[str, Any] = {
    **{
        key: {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"A group of conditions `field.op.value`, comma-separated, all of "
            f"which must hold{' (negated)' if name.startswith('not.') else ''} for `and`, one "
            f"for `or`; nestable: `{name}=(age.lt.18,and(active.is.true,status.eq.lead))`.",
            "schema": {"type": "string", "pattern": "^\\(.*\\)$"},
        }
        for key, name in (("Or", "or"), ("And", "and"), ("NotOr", "not.or"), ("NotAnd", "not.and"))
    },
    "Limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Page size; `0` returns no records (with `count=exact`, just the count).",
        "schema": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 50},
    },
    "Cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "`nextCursor` of the previous page (same filters and order).",
        "schema": {"type": "string"},
    },
    "Count": {
        "name": "count",
        "in": "query",
        "required": False,
        "description": "`exact`: also count every matching record (capped at 10,000).",
        "schema": {"enum": ["exact"]},
    },
}
