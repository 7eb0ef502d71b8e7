"""The record endpoints, as OpenAPI: each entity's path items, and the recycle bin.

Each entity gets its own path items (``/data/crm.contact``, ``/data/crm.contact/{id}``, ...)
although the server routes them generically: a client generator then produces typed methods per
entity, and the list operation can document one filter parameter per field.
"""

from __future__ import annotations

from typing import Any

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.names import ENTITY_NAME_PATTERN
from .common import entity_parameter, json_body, json_response, operation, ref, schema_ref
from .query_parameters import list_parameters
from .record_schemas import names

BIN = "recycle bin"


def entity_paths(ce: CompiledEntity) -> dict[str, Any]:
    n = names(ce)
    name, label = ce.name, ce.definition.label
    plural = ce.definition.label_plural or label
    base = f"/data/{name}"
    tags = [name]
    record = schema_ref(n["record"])
    etag = {"ETag": ref("headers", "ETag")}
    record_response = json_response(f"The {label} record.", record, etag)
    item = [ref("parameters", "RecordId")]
    return {
        base: {
            "get": operation(
                f"{name}.list",
                f"List {plural}",
                tags,
                {"200": json_response("A page of records.", _page_schema(n["listed"]))},
                (400, 403, 404),
                description="Filters use the PostgREST-style grammar `field=op.value` (see "
                "the parameters). A dotted name filters on a referenced record "
                "(`account.name=ilike.*acme*`, up to two hops), and `or`/`and` group "
                "conditions. Fields you may not read are refused. Pages are keyset-paged: "
                "pass `nextCursor` back as `cursor`.",
                parameters=list_parameters(ce),
            ),
            "post": operation(
                f"{name}.create",
                f"Create {label}",
                tags,
                {
                    "201": json_response(
                        "Created.", record, {**etag, "Location": ref("headers", "Location")}
                    )
                },
                (400, 403, 404, 409, 422),
                body=json_body(schema_ref(n["input"])),
            ),
        },
        f"{base}/{{id}}": {
            "parameters": item,
            "get": operation(
                f"{name}.get",
                f"Get {label} by id",
                tags,
                {
                    "200": record_response,
                    "304": {"description": "Not modified (`If-None-Match`).", "headers": etag},
                },
                (403, 404),
                parameters=[ref("parameters", "IfNoneMatch")],
            ),
            "patch": operation(
                f"{name}.update",
                f"Change {label}",
                tags,
                {"200": record_response},
                (400, 403, 404, 409, 412, 422),
                parameters=[ref("parameters", "IfMatch")],
                body=json_body(schema_ref(n["patch"])),
            ),
            "delete": operation(
                f"{name}.delete",
                f"Delete {label}",
                tags,
                {"204": {"description": "Moved to the recycle bin."}},
                (403, 404, 409, 412),
                description="References to the record follow their `onDelete`: `restrict` "
                "refuses (409), `cascade` deletes the referring records too, `setNull` "
                "clears the reference.",
                parameters=[ref("parameters", "IfMatch")],
            ),
        },
        f"{base}/{{id}}/history": {
            "parameters": item,
            "get": operation(
                f"{name}.history",
                f"{label} history: who changed what",
                tags,
                {"200": json_response("Newest first.", schema_ref("History"))},
                (403, 404),
            ),
        },
        f"{base}/bulk": {
            "post": operation(
                f"{name}.bulk",
                f"Create, change or upsert many {plural}",
                tags,
                {
                    "200": json_response("Done.", schema_ref("BulkResult")),
                    "207": json_response(
                        "Not atomic, and some records failed: see each result.",
                        schema_ref("BulkResult"),
                    ),
                },
                (400, 403, 404, 409, 422),
                description="Up to 1,000 records. Atomic (default): all or nothing, the "
                "first error names its `index`. Upsert matches on `key`, a unique field set.",
                body=json_body(_bulk_body(ce)),
            ),
        },
        f"{base}/changes": {
            "get": operation(
                f"{name}.changes",
                f"{plural} created, changed or deleted since a token",
                tags,
                {"200": json_response("The changes, oldest first.", _changes_schema(n))},
                (400, 403, 404),
                parameters=[
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "description": "`next` of the previous answer; start with `0`.",
                        "schema": {"type": "string", "pattern": "^[0-9]+$", "default": "0"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": "At most this many changes (up to 1,000).",
                        "schema": {"type": "integer", "minimum": 1, "default": 500},
                    },
                ],
            ),
        },
    }


def _page_schema(listed: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": schema_ref(listed)},
            "nextCursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
            "count": {"type": "integer", "description": "With `count=exact`."},
            "countCapped": {
                "type": "boolean",
                "description": "True when there are more than `count` (the cap) records.",
            },
        },
        "required": ["items", "nextCursor"],
    }


def _bulk_body(ce: CompiledEntity) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "mode": {"enum": ["create", "update", "upsert"], "default": "create"},
            "records": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": schema_ref(names(ce)["bulk"]),
            },
            "key": {
                "description": "For upsert: the fields of a unique key to match records on.",
                "type": "array",
                "items": {"enum": list(ce.fields)} if ce.fields else {"type": "string"},
            },
            "atomic": {"type": "boolean", "default": True},
        },
        "required": ["records"],
    }


def _changes_schema(n: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "token": {"type": "integer"},
                        "action": {"type": "string", "examples": ["created", "deleted"]},
                        "id": {"type": "integer"},
                        "record": schema_ref(n["listed"]),
                    },
                    "required": ["token", "action", "id"],
                },
            },
            "next": {"type": "string", "description": "The `since` of the next request."},
            "more": {"type": "boolean"},
        },
        "required": ["items", "next", "more"],
    }


def recycle_bin_paths(snapshot: MetadataSnapshot) -> dict[str, Any]:
    entity = entity_parameter("entity", snapshot)
    record = ref("parameters", "RecordId")
    return {
        "/recycle-bin": {
            "get": operation(
                "recycleBin.list",
                "Deleted records (administrators)",
                [BIN],
                {"200": json_response("Newest first, at most 200.", _bin_list())},
                (400, 404),
                description="Answers 404 to anyone but administrators.",
                parameters=[
                    {
                        "name": "entity",
                        "in": "query",
                        "required": False,
                        "description": "Only records of this entity.",
                        "schema": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
                    }
                ],
            )
        },
        "/recycle-bin/{entity}/{id}/restore": {
            "post": operation(
                "recycleBin.restore",
                "Restore a record and everything deleted with it",
                [BIN],
                {
                    "200": json_response(
                        "The restored record.",
                        {"type": "object"},
                        {"ETag": ref("headers", "ETag")},
                    )
                },
                (403, 404, 409),
                parameters=[entity, record],
            )
        },
        "/recycle-bin/{entity}/{id}": {
            "delete": operation(
                "recycleBin.purge",
                "Purge a deleted record for good",
                [BIN],
                {
                    "200": json_response(
                        "Purged.",
                        {
                            "type": "object",
                            "properties": {"purged": {"type": "integer"}},
                            "required": ["purged"],
                        },
                    )
                },
                (403, 404, 409),
                parameters=[entity, record],
            )
        },
    }


def _bin_list() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "entity": {"type": "string"},
                        "id": {"type": "integer"},
                        "title": {"type": ["string", "null"]},
                        "deletedAt": {"type": "string", "format": "date-time"},
                        "deletedBy": {"type": ["integer", "null"]},
                        "batch": {"type": ["string", "null"]},
                    },
                },
            }
        },
        "required": ["items"],
    }
