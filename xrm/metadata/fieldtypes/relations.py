"""Relation field types: reference (N:1), regarding (polymorphic N:1) and many-to-many."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..model import FieldSpec
from ..names import ENTITY_NAME_PATTERN
from .base import FieldType, FieldValueError

ON_DELETE = ("cascade", "restrict", "setNull")
SQL_ON_DELETE = {"cascade": "CASCADE", "restrict": "RESTRICT", "setNull": "SET NULL"}
MAX_ID = 2**63 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _coerce_id(value: Any, lenient: bool) -> int:
    if lenient and isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise FieldValueError(
            f"expected a record id (a whole number from 1 to {MAX_ID}), got {value!r}"
        )
    return value


REFERENCE = FieldType(
    name="reference",
    label="Reference",
    doc="A link to one record of the target entity (N:1): a real foreign key with an index. "
    "onDelete says what deleting the target does: restrict (default), cascade or setNull.",
    value_schema=lambda s: dict(ID_SCHEMA),
    # The ForeignKey itself is attached by the compiler, which knows the target table.
    columns=lambda s: [(s.name, sa.BigInteger(), {})],
    coerce=lambda s, v, lenient=False: _coerce_id(v, lenient),
    dump=lambda s, v: v,
    operators=("eq", "neq", "in", "is"),
    params={
        "target": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
        "onDelete": {"enum": list(ON_DELETE)},
    },
)


def _coerce_regarding(spec: FieldSpec, value: Any, lenient: bool = False) -> tuple[str, int]:
    if not isinstance(value, dict) or set(value) != {"entity", "id"}:
        raise FieldValueError('expected {"entity": "<entity name>", "id": <record id>}')
    entity = value["entity"]
    targets = spec.opt("targets")
    if not isinstance(entity, str) or (targets and entity not in targets):
        allowed = f" (one of {', '.join(targets)})" if targets else ""
        raise FieldValueError(f"entity {entity!r} cannot be referenced here{allowed}")
    return entity, _coerce_id(value["id"], lenient)


REGARDING = FieldType(
    name="regarding",
    label="Reference to any entity",
    doc="A link to a record of any entity (or of the listed targets), stored as two columns "
    '<name>_entity and <name>_id. JSON: {"entity": "crm.account", "id": 42}.',
    value_schema=lambda s: {
        "type": "object",
        "properties": {
            "entity": {"type": "string"}
            | ({"enum": list(s.opt("targets"))} if s.opt("targets") else {}),
            "id": ID_SCHEMA,
        },
        "required": ["entity", "id"],
        "additionalProperties": False,
    },
    columns=lambda s: [
        (f"{s.name}_entity", sa.String(60), {}),
        (f"{s.name}_id", sa.BigInteger(), {}),
    ],
    coerce=_coerce_regarding,
    dump=lambda s, v: None if v[0] is None else {"entity": v[0], "id": v[1]},
    operators=("eq", "is"),
    params={
        "targets": {
            "type": "array",
            "items": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
            "uniqueItems": True,
        }
    },
    sortable=False,
)


def _coerce_ids(spec: FieldSpec, value: Any, lenient: bool = False) -> list[int]:
    if lenient and isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    if not isinstance(value, list):
        raise FieldValueError("expected a list of record ids")
    ids = [_coerce_id(v, lenient) for v in value]
    if len(set(ids)) != len(ids):
        raise FieldValueError("lists a record twice")
    return ids


MANY_TO_MANY = FieldType(
    name="manytomany",
    label="Many-to-many",
    doc="Links to any number of records of the target entity, kept in an association table "
    "<table>__<field> with foreign keys to both sides (deleting either side removes the link).",
    value_schema=lambda s: {"type": "array", "items": dict(ID_SCHEMA), "uniqueItems": True},
    columns=lambda s: [],
    coerce=_coerce_ids,
    dump=lambda s, v: v,
    operators=("contains", "is"),
    params={"target": {"type": "string", "pattern": ENTITY_NAME_PATTERN}},
    association=True,
    sortable=False,
)

RELATION_TYPES = (REFERENCE, REGARDING, MANY_TO_MANY)
