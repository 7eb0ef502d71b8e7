"""The metadata endpoints, as OpenAPI: entity definitions, plans and applies."""

from __future__ import annotations

from typing import Any

from ...metadata.compiler import MetadataSnapshot
from ...metadata.names import ENTITY_NAME_PATTERN
from .common import (
    entity_parameter,
    json_body,
    json_response,
    operation,
    path_parameter,
    ref,
    schema_ref,
)

META = "metadata"


def _versioned(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return json_response(
        description, schema, {"X-Xrm-Metadata-Version": ref("headers", "MetadataVersion")}
    )


def metadata_paths(snapshot: MetadataSnapshot) -> dict[str, Any]:
    entity = entity_parameter("name", snapshot)
    new_or_existing = entity_parameter("name", snapshot, existing=False)
    change = schema_ref("DefinitionChange")
    option_set_name = path_parameter(
        "name",
        "An option set name such as `crm.industry`.",
        {"type": "string", "pattern": ENTITY_NAME_PATTERN},
    )
    applied = {
        "type": "object",
        "properties": {"version": {"type": "integer"}, "plan": schema_ref("MigrationPlan")},
        "required": ["version", "plan"],
    }
    return {
        "/meta/entities": {
            "get": operation(
                "meta.entities.list",
                "List the entities",
                [META],
                {
                    "200": _versioned(
                        "The entities at the current metadata version.", _entity_list()
                    )
                },
                (),
            )
        },
        "/meta/entities/{name}": {
            "get": operation(
                "meta.entities.get",
                "An entity's definition, layers, record schema and form",
                [META],
                {"200": _versioned("The entity.", _entity_detail())},
                (404,),
                parameters=[entity],
            ),
            "put": operation(
                "meta.entities.put",
                "Create or replace one entity definition (plan and apply)",
                [META],
                {"200": _versioned("Applied.", applied)},
                (400, 403, 409, 422),
                description="On a plugin's entity, an administrator's document becomes the "
                "customisation layer. Administrators only.",
                parameters=[
                    new_or_existing,
                    {
                        "name": "confirm",
                        "in": "query",
                        "required": False,
                        "description": "`true` to carry out checked or destructive changes.",
                        "schema": {"type": "boolean", "default": False},
                    },
                ],
                body=json_body(schema_ref("EntityDefinition")),
            ),
        },
        "/meta/entities/{name}/history": {
            "get": operation(
                "meta.entities.history",
                "Every revision of an entity definition",
                [META],
                {"200": json_response("Oldest first.", _definition_history())},
                (404,),
                parameters=[new_or_existing],
            )
        },
        "/meta/schemas/entity": {
            "get": operation(
                "meta.schemas.entity",
                "The entity meta-schema",
                [META],
                {"200": json_response("A JSON Schema (2020-12).", {"type": "object"})},
                (),
                public=True,
            )
        },
        "/meta/plan": {
            "post": operation(
                "meta.plan",
                "Plan a metadata change (dry run)",
                [META],
                {
                    "200": json_response(
                        "The plan; nothing was changed.", schema_ref("MigrationPlan")
                    )
                },
                (400, 403, 404, 409, 422),
                description="Validates the definitions and plans the migration, with row "
                "counts for checked operations. Administrators only.",
                body=json_body(change),
            )
        },
        "/meta/apply": {
            "post": operation(
                "meta.apply",
                "Plan and apply a metadata change in one transaction",
                [META],
                {"200": _versioned("Applied: the new metadata version.", applied)},
                (400, 403, 404, 409, 422),
                description="`confirm` is required for checked and destructive operations; "
                "`baseVersion` (from a previous plan) refuses with 409 if the metadata moved "
                "since. Administrators only.",
                body=json_body(
                    {
                        "allOf": [change],
                        "properties": {
                            "confirm": {"type": "boolean"},
                            "baseVersion": {"type": "integer"},
                            "fallbacks": {
                                "type": "object",
                                "description": "Per `entity.field`, what to do with values "
                                "that do not convert (`null`).",
                                "additionalProperties": {"type": "string"},
                            },
                        },
                    }
                ),
            )
        },
        "/meta/option-sets": {
            "get": operation(
                "meta.option_sets.list",
                "List the option sets",
                [META],
                {
                    "200": _versioned(
                        "Every option set by name, with the fields that use it.",
                        {
                            "type": "object",
                            "properties": {
                                "version": {"type": "integer"},
                                "items": {"type": "array", "items": _option_set()},
                            },
                            "required": ["version", "items"],
                        },
                    )
                },
                (),
                description="Sets are created and changed like entities: as documents in "
                "`POST /meta/plan` and `POST /meta/apply`.",
            )
        },
        "/meta/option-sets/{name}": {
            "get": operation(
                "meta.option_sets.get",
                "An option set and the fields that use it",
                [META],
                {"200": _versioned("The option set.", _option_set())},
                (404,),
                parameters=[option_set_name],
            ),
            "delete": operation(
                "meta.option_sets.delete",
                "Delete an option set that no field uses",
                [META],
                {
                    "204": {
                        "description": "Deleted: the new metadata version.",
                        "headers": {"X-Xrm-Metadata-Version": ref("headers", "MetadataVersion")},
                    }
                },
                (403, 404, 409),
                description="Refused with 409 while fields use the set: the problem's "
                "`usedBy` lists them (`entity.field`); point them at another set or give them "
                "their own options first. Administrators only.",
                parameters=[option_set_name],
            ),
        },
    }


def _option_set() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "description": {"type": "string"},
            "options": {"type": "array", "items": {"type": "object"}},
            "usedBy": {
                "type": "array",
                "items": {"type": "string"},
                "description": "`entity.field` of every live field using the set.",
            },
        },
        "required": ["name", "options", "usedBy"],
    }


def _entity_list() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "label": {"type": "string"},
                        "labelPlural": {"type": ["string", "null"]},
                        "source": {"type": "string"},
                        "fields": {"type": "integer"},
                    },
                    "required": ["name"],
                },
            },
        },
        "required": ["version", "items"],
    }


def _entity_detail() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "source": {"type": "string"},
            "definition": schema_ref("EntityDefinition"),
            "layers": {"type": "array", "items": {"type": "string"}},
            "recordSchema": {"type": "object", "description": "JSON Schema of a record."},
            "form": {"type": "object", "description": "What a generated form needs."},
        },
        "required": ["name", "version", "definition", "recordSchema"],
    }


def _definition_history() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "revision": {"type": "integer"},
                        "metadataVersion": {"type": "integer"},
                        "definition": {"type": ["object", "null"]},
                        "operations": {"type": "array"},
                        "appliedAt": {"type": "string", "format": "date-time"},
                        "appliedBy": {"type": ["string", "null"]},
                    },
                },
            }
        },
        "required": ["items"],
    }
