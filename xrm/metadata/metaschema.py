"""The entity meta-schema: the JSON Schema that every entity definition must satisfy.

It is generated from the field-type registry (so a type is declared once) and shipped as
``schemas/entity.schema.json``; ``python -m xrm.metadata.metaschema`` rewrites the file and a
test fails when the file and the registry disagree.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .fieldtypes import FIELD_TYPES
from .model import CONSTRAINT_KEYWORDS, JSON_SCHEMA_DIALECT
from .names import ENTITY_NAME_PATTERN, FIELD_NAME_PATTERN

SCHEMA_DIR = Path(__file__).with_name("schemas")
ENTITY_SCHEMA_FILE = SCHEMA_DIR / "entity.schema.json"
ENTITY_SCHEMA_ID = "urn:xrm:schema:entity"

COMMON_FIELD_OPTIONS = {
    "type": {"enum": sorted(FIELD_TYPES)},
    "unique": {"type": "boolean", "description": "No two records may have the same value."},
    "index": {"type": "boolean", "description": "Create an index on this field."},
    "maintainedBy": {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "description": "System-maintained: plugin code (a hook, as the platform) keeps this "
        "field up to date and users cannot write it. The text says what keeps it, for the "
        "error a user gets (e.g. 'the latest evaluation').",
    },
    "renamedFrom": {
        "description": "Earlier name(s) of this field: the planner renames instead of "
        "dropping and adding, so the data moves with the field.",
        "anyOf": [
            {"type": "string", "pattern": FIELD_NAME_PATTERN},
            {"type": "array", "items": {"type": "string", "pattern": FIELD_NAME_PATTERN}},
        ],
    },
}

JSON_TYPE_NAMES = ["string", "integer", "number", "boolean", "object", "array", "null"]
JSON_TYPES = {
    "anyOf": [
        {"enum": JSON_TYPE_NAMES},
        {"type": "array", "items": {"enum": JSON_TYPE_NAMES}, "minItems": 1, "uniqueItems": True},
    ]
}

NAME_LIST = {"type": "array", "items": {"type": "string", "pattern": FIELD_NAME_PATTERN}}


def build_entity_metaschema() -> dict[str, Any]:
    type_rules = []
    for ftype in FIELD_TYPES.values():
        allowed = sorted({*COMMON_FIELD_OPTIONS, *ftype.params})
        type_rules.append(
            {
                "if": {
                    "properties": {
                        "x-xrm": {
                            "properties": {"type": {"const": ftype.name}},
                            "required": ["type"],
                        }
                    },
                    "required": ["x-xrm"],
                },
                "then": {
                    "properties": {
                        "x-xrm": {
                            "properties": dict(ftype.params),
                            "propertyNames": {"enum": allowed},
                        }
                    }
                },
            }
        )
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": ENTITY_SCHEMA_ID,
        "title": "xRM entity definition",
        "description": "A JSON Schema (draft 2020-12) document describing the records of one "
        "entity, plus the x-xrm vocabulary for what JSON Schema cannot say.",
        # Not a $ref to the draft 2020-12 dialect: every keyword a definition may use is listed
        # here with its own schema, which is stricter (an unsupported keyword is an error, not
        # silently ignored) and about 50 times faster to check than the dialect's dynamic refs.
        "type": "object",
        "required": ["x-xrm", "properties"],
        "properties": {
            "$schema": {"const": JSON_SCHEMA_DIALECT},
            "$id": {"type": "string"},
            "type": {"const": "object"},
            "title": {"type": "string", "maxLength": 100},
            "description": {"type": "string"},
            "required": {**NAME_LIST, "uniqueItems": True},
            "additionalProperties": {"type": "boolean"},
            "properties": {
                "type": "object",
                "propertyNames": {"pattern": FIELD_NAME_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/field"},
            },
            "x-xrm": {"$ref": "#/$defs/entityOptions"},
            "$comment": {"type": "string"},
        },
        "additionalProperties": False,
        "$defs": {
            "entityOptions": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {
                        "type": "string",
                        "pattern": ENTITY_NAME_PATTERN,
                        "description": "Namespaced name, e.g. crm.contact.",
                    },
                    "labels": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "singular": {"type": "string", "minLength": 1, "maxLength": 100},
                            "plural": {"type": "string", "minLength": 1, "maxLength": 100},
                        },
                    },
                    "titleField": {"type": "string", "pattern": FIELD_NAME_PATTERN},
                    "searchFields": NAME_LIST,
                    "listColumns": NAME_LIST,
                    "ownership": {"enum": ["user", "organisation"]},
                    "audit": {"type": "boolean"},
                    "layer": {"type": "string"},
                    "unique": {
                        "type": "array",
                        "description": "Unique constraints over one or several fields.",
                        "items": {**NAME_LIST, "minItems": 1, "uniqueItems": True},
                    },
                    "indexes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["fields"],
                            "additionalProperties": False,
                            "properties": {
                                "fields": {**NAME_LIST, "minItems": 1, "uniqueItems": True},
                                "unique": {"type": "boolean"},
                                "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
                            },
                        },
                    },
                },
            },
            "field": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "maxLength": 100},
                    "description": {"type": "string"},
                    "$comment": {"type": "string"},
                    "readOnly": {"type": "boolean"},
                    "deprecated": {"type": "boolean"},
                    "examples": {"type": "array"},
                    "default": True,
                    "type": JSON_TYPES,
                    "format": {"type": "string"},
                    "pattern": {"type": "string", "format": "regex"},
                    "maxLength": {"type": "integer", "minimum": 1, "maximum": 10485760},
                    "minLength": {"type": "integer", "minimum": 0},
                    "minimum": {"type": "number"},
                    "maximum": {"type": "number"},
                    "exclusiveMinimum": {"type": "number"},
                    "exclusiveMaximum": {"type": "number"},
                    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
                    "enum": {"type": "array", "minItems": 1, "uniqueItems": True},
                    "minItems": {"type": "integer", "minimum": 0},
                    "maxItems": {"type": "integer", "minimum": 0},
                    "uniqueItems": {"type": "boolean"},
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "type": JSON_TYPES,
                            "enum": {"type": "array", "minItems": 1, "uniqueItems": True},
                        },
                    },
                    "x-xrm": {
                        "type": "object",
                        "properties": COMMON_FIELD_OPTIONS,
                    },
                },
                "additionalProperties": False,
                "allOf": type_rules,
            },
        },
        "x-xrm-constraint-keywords": list(CONSTRAINT_KEYWORDS),
    }


@cache
def entity_metaschema() -> dict[str, Any]:
    """The shipped meta-schema (read once per process)."""
    return json.loads(ENTITY_SCHEMA_FILE.read_text())


@cache
def entity_metaschema_validator() -> Draft202012Validator:
    return Draft202012Validator(entity_metaschema())


@cache
def structure_validator() -> Draft202012Validator:
    """The shipped meta-schema without the per-type if/then rules (see type_option_validators)."""
    schema = copy.deepcopy(entity_metaschema())
    schema["$defs"]["field"].pop("allOf", None)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def type_option_validators() -> dict[str, Draft202012Validator]:
    """Per field type: the ``then`` branch of its rule in the shipped meta-schema."""
    out = {}
    for rule in entity_metaschema()["$defs"]["field"]["allOf"]:
        ftype = rule["if"]["properties"]["x-xrm"]["properties"]["type"]["const"]
        out[ftype] = Draft202012Validator(rule["then"]["properties"]["x-xrm"])
    return out


def write_metaschema() -> Path:
    SCHEMA_DIR.mkdir(exist_ok=True)
    ENTITY_SCHEMA_FILE.write_text(json.dumps(build_entity_metaschema(), indent=2) + "\n")
    return ENTITY_SCHEMA_FILE


if __name__ == "__main__":
    print(write_metaschema())
