"""The meta-schemas of workflow and rule set definitions.

They are generated from the action-type registry (so an action type is declared once) and
shipped as ``schemas/workflow.schema.json`` and ``schemas/rules.schema.json``;
``python -m xrm.workflow.metaschema`` rewrites the files and a test fails when the files and the
registry disagree.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from xrm.metadata.model import JSON_SCHEMA_DIALECT
from xrm.metadata.names import ENTITY_NAME_PATTERN, FIELD_NAME_PATTERN

from .actions import ACTION_TYPES, EXPRESSION, PLUGIN_ACTION_PATTERN

SCHEMA_DIR = Path(__file__).with_name("schemas")
WORKFLOW_SCHEMA_FILE = SCHEMA_DIR / "workflow.schema.json"
RULES_SCHEMA_FILE = SCHEMA_DIR / "rules.schema.json"
WORKFLOW_SCHEMA_ID = "urn:xrm:schema:workflow"
RULES_SCHEMA_ID = "urn:xrm:schema:rules"

NAME = {"type": "string", "pattern": FIELD_NAME_PATTERN}
FIELDS = {"type": "array", "items": NAME, "uniqueItems": True}
LABEL = {"type": "string", "minLength": 1, "maxLength": 100}
ROLE = {"type": "string", "minLength": 1, "maxLength": 100}
#: ISO 8601 durations: P2D, PT4H, P1Y2M, P1W; a leading minus for offsets before a date.
DURATION_PATTERN = r"^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
DURATION = {"type": "string", "pattern": DURATION_PATTERN, "description": "ISO 8601 duration."}


def _action_defs() -> dict[str, Any]:
    rules = []
    for t in ACTION_TYPES.values():
        rules.append(
            {
                "if": {"properties": {"type": {"const": t.name}}, "required": ["type"]},
                "then": {
                    "required": list(t.required),
                    "properties": dict(t.params),
                    "propertyNames": {"enum": sorted({"type", "when", *t.params})},
                },
            }
        )
    builtin = sorted(ACTION_TYPES)
    return {
        "action": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {
                    "anyOf": [
                        {"enum": builtin},
                        {
                            "type": "string",
                            "pattern": PLUGIN_ACTION_PATTERN,
                            "description": "An action type a plugin registered (namespaced).",
                        },
                    ]
                },
                "when": {**EXPRESSION, "description": "Run the action only when this holds."},
            },
            "allOf": [
                *rules,
                {
                    "if": {"properties": {"type": {"not": {"enum": builtin}}}},
                    "then": {
                        "properties": {"params": {"type": "object"}},
                        "propertyNames": {"enum": ["type", "when", "params"]},
                    },
                },
            ],
        },
        "actions": {"type": "array", "items": {"$ref": "#/$defs/action"}},
    }


def build_workflow_metaschema() -> dict[str, Any]:
    timer = {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": NAME,
            "after": {
                **DURATION,
                "description": "Fire this long after the record entered the state.",
            },
            "at": {**NAME, "description": "A date or datetime field: fire when it is reached."},
            "offset": {**DURATION, "description": "Shift the date of 'at' (negative: before it)."},
            "when": {**EXPRESSION, "description": "Fire only if this holds when the timer is due."},
            "transition": {**NAME, "description": "Take this transition (as the platform)."},
            "actions": {"$ref": "#/$defs/actions"},
        },
        "oneOf": [{"required": ["after"]}, {"required": ["at"]}],
        "anyOf": [{"required": ["transition"]}, {"required": ["actions"]}],
    }
    state = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "label": LABEL,
            "description": {"type": "string"},
            "initial": {"type": "boolean"},
            "final": {"type": "boolean"},
            "colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
            "required": {**FIELDS, "description": "Fields that must be filled in this state."},
            "readOnly": {**FIELDS, "description": "Fields that cannot change in this state."},
            "timers": {"type": "array", "items": {"$ref": "#/$defs/timer"}},
            "renamedFrom": {
                "description": "Earlier name(s): records in them move to this state.",
                "anyOf": [NAME, {"type": "array", "items": NAME}],
            },
        },
    }
    approval = {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": NAME,
            "label": LABEL,
            "role": ROLE,
            "roles": {"type": "array", "items": ROLE, "minItems": 1, "uniqueItems": True},
            "when": {**EXPRESSION, "description": "The step is needed only when this holds."},
            "covers": {**FIELDS, "description": "Changing these fields voids the approval."},
        },
        "oneOf": [{"required": ["role"]}, {"required": ["roles"]}],
    }
    transition = {
        "type": "object",
        "required": ["name", "from", "to"],
        "additionalProperties": False,
        "properties": {
            "name": NAME,
            "label": LABEL,
            "description": {"type": "string"},
            "from": {
                "description": "The state(s) this transition leaves; '*' for every non-final state.",
                "anyOf": [
                    NAME,
                    {"const": "*"},
                    {"type": "array", "items": NAME, "minItems": 1, "uniqueItems": True},
                ],
            },
            "to": NAME,
            "roles": {"type": "array", "items": ROLE, "uniqueItems": True},
            "guard": {
                **EXPRESSION,
                "description": "The transition is available only if this holds.",
            },
            "guardMessage": {"type": "string", "maxLength": 500},
            "fields": {**FIELDS, "description": "Fields the user may fill when taking it."},
            "requiredFields": {**FIELDS, "description": "Fields that must be filled to take it."},
            "requireComment": {"type": "boolean"},
            "notByOwner": {
                "type": "boolean",
                "description": "Four eyes: not by the record's owner.",
            },
            "ownerOnly": {"type": "boolean", "description": "Only the record's owner."},
            "approvals": {"type": "array", "items": {"$ref": "#/$defs/approval"}},
            "actions": {"$ref": "#/$defs/actions"},
        },
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": WORKFLOW_SCHEMA_ID,
        "title": "xRM workflow definition",
        "description": "A state machine bound to an entity and one of its fields: states, "
        "transitions with roles, guards, approvals and actions, and timers.",
        "type": "object",
        "required": ["name", "entity", "stateField", "states", "transitions"],
        "additionalProperties": False,
        "properties": {
            "$schema": {"const": WORKFLOW_SCHEMA_ID},
            "name": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
            "label": LABEL,
            "description": {"type": "string"},
            "entity": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
            "stateField": NAME,
            "states": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": FIELD_NAME_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/state"},
            },
            "transitions": {"type": "array", "items": {"$ref": "#/$defs/transition"}},
        },
        "$defs": {
            "state": state,
            "timer": timer,
            "transition": transition,
            "approval": approval,
            **_action_defs(),
        },
    }


def build_rules_metaschema() -> dict[str, Any]:
    def rule(required: list[str], **props: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "required": required,
            "additionalProperties": False,
            "properties": props,
        }

    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": RULES_SCHEMA_ID,
        "title": "xRM rule set",
        "description": "Validation rules, computed fields, defaults, form rules, roll-ups and "
        "automations of an entity.",
        "type": "object",
        "required": ["name", "entity"],
        "additionalProperties": False,
        "properties": {
            "$schema": {"const": RULES_SCHEMA_ID},
            "name": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
            "label": LABEL,
            "description": {"type": "string"},
            "entity": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
            "validations": {
                "type": "array",
                "items": rule(
                    ["name", "expression", "message"],
                    name=NAME,
                    expression={**EXPRESSION, "description": "Must hold for a valid record."},
                    message={"type": "string", "minLength": 1, "maxLength": 500},
                    field=NAME,
                    when={**EXPRESSION, "description": "The rule applies only when this holds."},
                ),
            },
            "computed": {
                "type": "array",
                "items": rule(["field", "expression"], field=NAME, expression=EXPRESSION),
            },
            "defaults": {
                "type": "array",
                "items": rule(
                    ["field", "expression"], field=NAME, expression=EXPRESSION, when=EXPRESSION
                ),
            },
            "formRules": {
                "type": "array",
                "items": {
                    **rule(
                        ["name", "when"],
                        name=NAME,
                        when=EXPRESSION,
                        show={**FIELDS, "description": "Shown only while 'when' holds."},
                        hide={**FIELDS, "description": "Hidden while 'when' holds."},
                        require={**FIELDS, "description": "Required while 'when' holds."},
                        readOnly={**FIELDS, "description": "Read-only while 'when' holds."},
                    ),
                    "anyOf": [{"required": [k]} for k in ("show", "hide", "require", "readOnly")],
                },
            },
            "rollups": {
                "type": "array",
                "items": rule(
                    ["field", "entity", "via", "aggregate"],
                    field={
                        **NAME,
                        "description": "The field of this entity that holds the result.",
                    },
                    entity={
                        "type": "string",
                        "pattern": ENTITY_NAME_PATTERN,
                        "description": "The child entity whose records are aggregated.",
                    },
                    via={**NAME, "description": "The child's reference field to this entity."},
                    aggregate={"enum": ["count", "sum", "min", "max", "avg"]},
                    of={**NAME, "description": "The child field aggregated (not for count)."},
                    filter={
                        "type": "object",
                        "propertyNames": {"pattern": FIELD_NAME_PATTERN},
                        "additionalProperties": {
                            "anyOf": [
                                {"type": ["string", "number", "boolean"]},
                                {
                                    "type": "array",
                                    "items": {"type": ["string", "number", "boolean"]},
                                },
                                {
                                    "type": "object",
                                    "minProperties": 1,
                                    "additionalProperties": False,
                                    "properties": {
                                        **{
                                            op: {"type": ["string", "number", "boolean"]}
                                            for op in ("eq", "neq", "gt", "gte", "lt", "lte")
                                        },
                                        "in": {
                                            "type": "array",
                                            "items": {"type": ["string", "number", "boolean"]},
                                        },
                                        "null": {"type": "boolean"},
                                    },
                                },
                            ]
                        },
                        "description": "Only children whose fields pass: a value (equals), a "
                        "list (one of), or an object of operators that must all hold: eq, neq, "
                        "gt, gte, lt, lte, in (a list), null (true: empty, false: filled).",
                    },
                ),
            },
            "automations": {
                "type": "array",
                "items": {
                    **rule(
                        ["name", "on", "actions"],
                        name=NAME,
                        label=LABEL,
                        on={
                            "enum": ["create", "update", "delete", "transition", "schedule", "date"]
                        },
                        fields={
                            **FIELDS,
                            "description": "on update: run only when one of these changed.",
                        },
                        transition={**NAME, "description": "on transition: only this one."},
                        cron={
                            "type": "string",
                            "pattern": r"^\S+(\s+\S+){4}$",
                            "description": "on schedule: minute hour day month weekday (UTC).",
                        },
                        field={**NAME, "description": "on date: the date or datetime field."},
                        offset={**DURATION, "description": "on date: shift (negative: before)."},
                        when={**EXPRESSION, "description": "Run only when this holds."},
                        mode={"enum": ["sync", "async"]},
                        actions={
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/$defs/action"},
                        },
                    ),
                    "allOf": [
                        {
                            "if": {"properties": {"on": {"const": "schedule"}}},
                            "then": {"required": ["cron"]},
                        },
                        {
                            "if": {"properties": {"on": {"const": "date"}}},
                            "then": {"required": ["field"]},
                        },
                    ],
                },
            },
        },
        "$defs": _action_defs(),
    }


@cache
def workflow_metaschema() -> dict[str, Any]:
    """The shipped workflow meta-schema (read once per process)."""
    return json.loads(WORKFLOW_SCHEMA_FILE.read_text())


@cache
def rules_metaschema() -> dict[str, Any]:
    return json.loads(RULES_SCHEMA_FILE.read_text())


@cache
def workflow_metaschema_validator() -> Draft202012Validator:
    return Draft202012Validator(workflow_metaschema())


@cache
def rules_metaschema_validator() -> Draft202012Validator:
    return Draft202012Validator(rules_metaschema())


def write_metaschemas() -> list[Path]:
    SCHEMA_DIR.mkdir(exist_ok=True)
    WORKFLOW_SCHEMA_FILE.write_text(json.dumps(build_workflow_metaschema(), indent=2) + "\n")
    RULES_SCHEMA_FILE.write_text(json.dumps(build_rules_metaschema(), indent=2) + "\n")
    return [WORKFLOW_SCHEMA_FILE, RULES_SCHEMA_FILE]


if __name__ == "__main__":
    for path in write_metaschemas():
        print(path)
