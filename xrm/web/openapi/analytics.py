"""OpenAPI paths of aggregates (``/data/<entity>/aggregate``, per entity) and saved views
(``/views``)."""

from __future__ import annotations

from typing import Any

from ...core.query.aggregate import BUCKETS, GROUPABLE, NUMERIC
from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from .common import json_body, json_response, operation, path_parameter
from .query_parameters import filter_parameters

VIEWS = "views"

AGGREGATE_RESULT = {
    "type": "object",
    "properties": {
        "entity": {"type": "string"},
        "group": {"type": ["string", "null"]},
        "measures": {"type": "array", "items": {"type": "string"}},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": {}},
                "required": ["key"],
                "additionalProperties": True,
                "description": "`key` (the group's value, null for no value) and one "
                "property per measure: a number, a decimal string, a money object or a date",
            },
        },
    },
    "required": ["entity", "group", "measures", "items"],
}

VIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer", "string"]},
        "entity": {"type": "string"},
        "label": {"type": "string"},
        "kind": {"enum": ["list", "kanban"]},
        "columns": {"type": "array", "items": {"type": "string"}},
        "query": {"type": "string"},
        "groupBy": {"type": ["string", "null"]},
        "shared": {"type": "boolean"},
        "ownerId": {"type": ["integer", "null"]},
        "source": {"type": "string"},
    },
}
VIEW_INPUT = {
    "type": "object",
    "properties": {
        k: v for k, v in VIEW_SCHEMA["properties"].items() if k not in ("id", "ownerId", "source")
    },
}


def aggregate_paths(ce: CompiledEntity) -> dict[str, Any]:
    groupable = [cf.name for cf in ce.fields.values() if cf.spec.type in GROUPABLE] + [
        "id",
        "created_at",
        "updated_at",
    ]
    dated = [cf.name for cf in ce.fields.values() if cf.spec.type in ("date", "datetime")]
    measurable = [cf.name for cf in ce.fields.values() if cf.spec.type in NUMERIC]
    group_values = groupable + [
        f"{d}:{b}" for d in [*dated, "created_at", "updated_at"] for b in BUCKETS
    ]
    params = [
        {
            "name": "group",
            "in": "query",
            "required": False,
            "description": "The field to group by; dates and datetimes may be bucketed "
            "(`created_at:month`, `:day`, `:year`). Without it, one total.",
            "schema": {"enum": group_values},
        },
        {
            "name": "measure",
            "in": "query",
            "required": False,
            "description": "Comma-separated measures: `count`, `sum.<f>`, `avg.<f>`, `min.<f>`, "
            f"`max.<f>`. Number and money fields: {', '.join(measurable) or 'none'}.",
            "schema": {"type": "string", "default": "count"},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "At most this many groups.",
            "schema": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 1000},
        },
        *filter_parameters(ce),
    ]
    return {
        f"/data/{ce.name}/aggregate": {
            "get": operation(
                f"{ce.name}.aggregate",
                f"Aggregate {ce.definition.label_plural or ce.definition.label}",
                [ce.name],
                {"200": json_response("Groups and their measures.", AGGREGATE_RESULT)},
                (400, 403, 404),
                description="Grouped counts, sums, averages, minima and maxima over the records "
                "matching the filters (the list grammar), within your record scope; fields you "
                "may not read are refused.",
                parameters=params,
            )
        }
    }


def view_paths(snapshot: MetadataSnapshot) -> dict[str, Any]:
    view_id = path_parameter(
        "id", "A saved view's id.", {"type": "integer", "minimum": 0, "maximum": 2147483647}
    )
    listed = {"type": "object", "properties": {"items": {"type": "array", "items": VIEW_SCHEMA}}}
    return {
        "/views": {
            "get": operation(
                "views.list",
                "Saved views you may use",
                [VIEWS],
                {"200": json_response("Plugin views, shared views and your own.", listed)},
                (400,),
                parameters=[
                    {
                        "name": "entity",
                        "in": "query",
                        "required": False,
                        "description": "Only the views of this entity.",
                        "schema": {"type": "string"},
                    }
                ],
            ),
            "post": operation(
                "views.create",
                "Save a view",
                [VIEWS],
                {"201": json_response("The saved view.", VIEW_SCHEMA)},
                (400, 403, 422),
                body=json_body(VIEW_INPUT),
                description="`shared: true` is for administrators. The query is checked "
                "against the entity.",
            ),
        },
        "/views/{id}": {
            "parameters": [view_id],
            "patch": operation(
                "views.update",
                "Change a saved view",
                [VIEWS],
                {"200": json_response("The saved view.", VIEW_SCHEMA)},
                (400, 403, 404, 422),
                body=json_body(VIEW_INPUT),
            ),
            "delete": operation(
                "views.delete",
                "Delete a saved view",
                [VIEWS],
                {"204": {"description": "Deleted."}},
                (403, 404),
            ),
        },
    }
