"""Workflows, rule sets, transitions, approvals and form state, as OpenAPI."""

from __future__ import annotations

from typing import Any

from ...metadata.compiler import MetadataSnapshot
from ...metadata.names import ENTITY_NAME_PATTERN, FIELD_NAME_PATTERN
from .common import MAX_ID, entity_parameter, json_body, json_response, operation, path_parameter

WORKFLOWS = "workflows"

FINDING = {
    "type": "object",
    "properties": {
        "pointer": {"type": "string"},
        "message": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["pointer", "message", "code"],
}
FINDINGS = {
    "type": "object",
    "properties": {
        "errors": {"type": "array", "items": FINDING},
        "warnings": {"type": "array", "items": FINDING},
    },
    "required": ["errors", "warnings"],
}
DOCUMENT = {
    "type": "object",
    "description": "A workflow (`GET /meta/schemas/workflow`) or rule set (`GET /meta/schemas/rules`) document.",
}
ITEM = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "entity": {"type": "string"},
        "source": {"type": "string"},
        "revision": {"type": "integer"},
        "status": {"type": "string"},
    },
}
SAVE_PLAN = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "revision": {"type": ["integer", "null"]},
        "saved": {"type": "boolean"},
        "errors": {"type": "array", "items": FINDING},
        "warnings": {"type": "array", "items": FINDING},
        "moves": {"type": "array", "items": {"type": "object"}},
        "recordsMoved": {"type": "integer"},
    },
}
WORKFLOW_TRANSITIONS = {
    "type": "object",
    "properties": {
        "workflow": {"type": "string"},
        "label": {"type": "string"},
        "stateField": {"type": "string"},
        "state": {"type": ["string", "null"]},
        "states": {"type": "array", "items": {"type": "object"}},
        "transitions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "label": {"type": "string"},
                    "to": {"type": "string"},
                    "available": {"type": "boolean"},
                    "reasons": {"type": "array", "items": {"type": "object"}},
                    "requires": {"type": "object"},
                },
            },
        },
    },
    "required": ["workflow", "state", "states", "transitions"],
}
#: The first workflow (by name) at the top level, and every workflow of the entity in
#: ``workflows`` (an entity may have several, each on its own state field).
TRANSITIONS = {
    **WORKFLOW_TRANSITIONS,
    "properties": {
        **WORKFLOW_TRANSITIONS["properties"],
        "workflows": {"type": "array", "items": WORKFLOW_TRANSITIONS},
    },
    "required": [*WORKFLOW_TRANSITIONS["required"], "workflows"],
}
LIST = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}


def _doc_paths(collection: str, label: str) -> dict[str, Any]:
    name = path_parameter(
        "name",
        f"The {label}'s name, such as `crm.lead_qualification`.",
        {"type": "string", "pattern": ENTITY_NAME_PATTERN},
    )
    entity_q = {"name": "entity", "in": "query", "required": False, "schema": {"type": "string"}}
    dry = {"name": "dry_run", "in": "query", "required": False, "schema": {"type": "boolean"}}
    return {
        f"/meta/{collection}": {
            "get": operation(
                f"meta.{collection}.list",
                f"List the {label}s",
                [WORKFLOWS],
                {
                    "200": json_response(
                        f"The {label}s.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": ITEM}},
                        },
                    )
                },
                (400,),
                parameters=[entity_q],
            ),
        },
        f"/meta/{collection}/verify": {
            "post": operation(
                f"meta.{collection}.verify",
                f"Verify a {label} document",
                [WORKFLOWS],
                {"200": json_response("Every error and warning.", FINDINGS)},
                (400,),
                body=json_body(DOCUMENT),
            ),
        },
        f"/meta/{collection}/{{name}}": {
            "get": operation(
                f"meta.{collection}.get",
                f"A {label} (current revision)",
                [WORKFLOWS],
                {"200": json_response(f"The {label}.", ITEM)},
                (404,),
                parameters=[name],
            ),
            "put": operation(
                f"meta.{collection}.put",
                f"Verify and save a {label} (a new revision)",
                [WORKFLOWS],
                {"200": json_response("Saved (or, with dry_run, the plan).", SAVE_PLAN)},
                (400, 403, 409, 422),
                parameters=[name, dry],
                description='The body is the document, or `{"document", "mapping"}` where the '
                "mapping moves records out of removed states. Errors block with 422; a removed "
                "state holding records without a mapping is 409. Administrators only.",
                body=json_body(DOCUMENT),
            ),
            "delete": operation(
                f"meta.{collection}.delete",
                f"Remove a {label}",
                [WORKFLOWS],
                {"204": {"description": "Removed."}},
                (403, 404),
                parameters=[name],
            ),
        },
        f"/meta/{collection}/{{name}}/history": {
            "get": operation(
                f"meta.{collection}.history",
                f"Every revision of a {label}",
                [WORKFLOWS],
                {"200": json_response("Revisions, oldest first.", LIST)},
                (404,),
                parameters=[name],
            ),
        },
    }


def workflow_paths(snapshot: MetadataSnapshot) -> dict[str, Any]:
    entity = entity_parameter("entity", snapshot)
    rid = path_parameter(
        "id", "The record id.", {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    )
    tname = path_parameter(
        "transition", "The transition's name.", {"type": "string", "pattern": FIELD_NAME_PATTERN}
    )
    fire_body = {
        "type": "object",
        "properties": {
            "comment": {"type": "string"},
            "values": {"type": "object"},
            "workflow": {
                "type": "string",
                "description": "Which of the entity's workflows, when several have a "
                "transition of this name leaving the record's state.",
            },
        },
    }
    paths = {**_doc_paths("workflows", "workflow"), **_doc_paths("rules", "rule set")}
    for kind in ("workflow", "rules"):
        paths[f"/meta/schemas/{kind}"] = {
            "get": operation(
                f"meta.schemas.{kind}",
                f"The {kind} meta-schema",
                [WORKFLOWS],
                {"200": json_response("A JSON Schema (2020-12).", {"type": "object"})},
                (),
                public=True,
            )
        }
    paths["/meta/action-types"] = {
        "get": operation(
            "meta.action_types",
            "The action types of workflows and automations",
            [WORKFLOWS],
            {
                "200": json_response(
                    "Built-in and plugin action types with their parameters (JSON Schema).",
                    {
                        "type": "object",
                        "properties": {
                            "items": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "doc": {"type": "string"},
                                        "params": {"type": "object"},
                                        "required": {"type": "array", "items": {"type": "string"}},
                                        "plugin": {"type": ["string", "null"]},
                                    },
                                },
                            }
                        },
                    },
                )
            },
            (),
        )
    }
    base = "/data/{entity}/{id}"
    paths[f"{base}/transitions"] = {
        "get": operation(
            "records.transitions",
            "The record's state and the transitions leaving it",
            [WORKFLOWS],
            {"200": json_response("Available transitions, and why others are not.", TRANSITIONS)},
            (403, 404),
            parameters=[entity, rid],
        ),
    }
    paths[f"{base}/transitions/{{transition}}"] = {
        "post": operation(
            "records.transitions.fire",
            "Fire a transition",
            [WORKFLOWS],
            {
                "200": json_response(
                    "The record after the transition (with its ETag).", {"type": "object"}
                )
            },
            (400, 403, 404, 409, 412, 422),
            parameters=[entity, rid, tname],
            description="Refusals are problem details with every `reasons` entry "
            "(`{code, message}`); two clients firing at once: one succeeds, the other gets 409.",
            body=json_body(fire_body, required=False),
        ),
    }
    paths[f"{base}/approvals"] = {
        "get": operation(
            "records.approvals.list",
            "Approvals given for the record's transitions",
            [WORKFLOWS],
            {"200": json_response("Approvals.", LIST)},
            (403, 404),
            parameters=[entity, rid],
        ),
        "post": operation(
            "records.approvals.give",
            "Approve a step of a transition",
            [WORKFLOWS],
            {"201": json_response("The approvals now given.", LIST)},
            (400, 403, 404, 409),
            parameters=[entity, rid],
            body=json_body(
                {
                    "type": "object",
                    "required": ["transition", "step"],
                    "properties": {
                        "transition": {"type": "string"},
                        "step": {"type": "string"},
                        "comment": {"type": "string"},
                        "workflow": {"type": "string"},
                    },
                }
            ),
        ),
    }
    paths[f"{base}/states"] = {
        "get": operation(
            "records.states",
            "Time in state: every stay of the record",
            [WORKFLOWS],
            {"200": json_response("Stays, oldest first.", LIST)},
            (403, 404),
            parameters=[entity, rid],
        ),
    }
    paths[f"{base}/automation-runs"] = {
        "get": operation(
            "records.automation_runs",
            "Automation runs on the record, with their steps",
            [WORKFLOWS],
            {"200": json_response("Runs, oldest first.", LIST)},
            (403, 404),
            parameters=[entity, rid],
        ),
    }
    paths["/data/{entity}/form-state"] = {
        "post": operation(
            "records.form_state",
            "Hidden, required and read-only fields for form values",
            [WORKFLOWS],
            {
                "200": json_response(
                    "The form state.",
                    {
                        "type": "object",
                        "properties": {
                            "hidden": {"type": "array", "items": {"type": "string"}},
                            "required": {"type": "array", "items": {"type": "string"}},
                            "readonly": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                )
            },
            (400, 403, 404),
            parameters=[entity],
            body=json_body(
                {
                    "type": "object",
                    "properties": {"values": {"type": "object"}, "id": {"type": "integer"}},
                }
            ),
        ),
    }
    return paths
