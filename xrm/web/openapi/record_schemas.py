"""The JSON Schemas of an entity's records, as OpenAPI components.

``record`` is the compiled record schema as it is (JSON Schema 2020-12, which OpenAPI 3.1 embeds
unchanged); the create, patch, list and bulk forms derive from it.
"""

from __future__ import annotations

import copy
from typing import Any

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from .common import MAX_ID, schema_ref

#: Field types whose value a list can expand into the referenced record(s).
EXPANDABLE = ("reference", "manytomany")


def names(ce: CompiledEntity) -> dict[str, str]:
    """Component names of an entity's schemas. Dots cannot clash with entity names, which
    have exactly one (``crm.account_input`` is an entity; ``crm.account.input`` is not)."""
    n = ce.name
    return {
        "record": n,
        "input": f"{n}.input",
        "patch": f"{n}.patch",
        "listed": f"{n}.listed",
        "bulk": f"{n}.bulkRecord",
    }


def entity_schemas(ce: CompiledEntity, snapshot: MetadataSnapshot) -> dict[str, Any]:
    """``record`` is the compiled record schema as it is; the others derive from it."""
    n = names(ce)
    record = copy.deepcopy(ce.record_schema)
    record.setdefault("description", _describe(ce))
    create = copy.deepcopy(ce.input_schema)
    create["title"] = f"{ce.definition.label} (create)"
    patch = {k: v for k, v in copy.deepcopy(create).items() if k != "required"}
    patch["title"] = f"{ce.definition.label} (change)"
    patch["description"] = "The fields to change; fields left out keep their value."
    bulk = copy.deepcopy(patch)
    bulk["title"] = f"{ce.definition.label} (bulk record)"
    bulk["description"] = (
        "A record of a bulk request: for `update`, its `id` and the fields to change; "
        "for `create` and `upsert`, its fields."
    )
    bulk["properties"] = {
        "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        **bulk["properties"],
    }
    return {
        n["record"]: record,
        n["input"]: create,
        n["patch"]: patch,
        n["listed"]: _listed_schema(ce, snapshot),
        n["bulk"]: bulk,
    }


def _describe(ce: CompiledEntity) -> str:
    d = ce.definition
    text = f"A record of {d.label} (`{ce.name}`)."
    if d.description:
        text = f"{d.description}\n\n{text}"
    return text


def _listed_schema(ce: CompiledEntity, snapshot: MetadataSnapshot) -> dict[str, Any]:
    """A record as a list returns it: only the ``select``ed fields (``id`` always), and
    references possibly expanded into (selected fields of) the referenced records."""
    props: dict[str, Any] = {}
    for key, schema in ce.record_schema["properties"].items():
        cf = ce.fields.get(key)
        target = cf.spec.opt("target") if cf is not None else None
        if cf is None or cf.spec.type not in EXPANDABLE or target not in snapshot.entities:
            props[key] = copy.deepcopy(schema)
            continue
        plain = {k: copy.deepcopy(v) for k, v in schema.items() if k != "title"}
        expanded: dict[str, Any] = schema_ref(f"{target}.listed")
        if cf.spec.type == "manytomany":
            expanded = {"type": "array", "items": expanded}
        else:
            expanded = {"anyOf": [expanded, {"type": "null"}]}
        props[key] = {
            "title": schema.get("title", key),
            "description": f"Ids of {target} records, or those records when expanded "
            f"with `select={key}(...)`."
            if cf.spec.type == "manytomany"
            else f"Id of a {target} record, or that record when expanded with `select={key}(...)`.",
            "anyOf": [plain, expanded],
        }
    return {
        "title": f"{ce.definition.label} (selected fields)",
        "type": "object",
        "properties": props,
        "required": ["id"],
    }


#: Answers every entity shares (``#/components/...``).
SHARED_SCHEMAS: dict[str, Any] = {
    "History": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "action": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                        "actor": {
                            "type": "object",
                            "properties": {
                                "id": {"type": ["integer", "null"]},
                                "username": {"type": ["string", "null"]},
                            },
                        },
                        "changes": {
                            "type": "object",
                            "description": "Per field, its `old` and `new` value.",
                            "additionalProperties": {
                                "type": "object",
                                "properties": {"old": {}, "new": {}},
                            },
                        },
                    },
                },
            }
        },
        "required": ["items"],
    },
    "BulkResult": {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "status": {"type": "integer"},
                        "id": {"type": "integer"},
                        "error": {"type": "string"},
                        "errors": {"type": "array", "items": schema_ref("ProblemItem")},
                    },
                    "required": ["index", "status"],
                },
            }
        },
        "required": ["results"],
    },
}
