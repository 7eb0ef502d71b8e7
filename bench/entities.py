"""Entity definitions and records the benchmarks apply: realistic mixes of field types."""

from __future__ import annotations

from typing import Any

TARGET_ENTITY = "bench.target"

#: One field of each common kind; the 20-field entity of scenario 1 uses exactly these.
FIELD_MIX: list[dict[str, Any]] = [
    {"title": "Name", "type": "string", "maxLength": 80},
    {"title": "E-mail", "type": "string", "format": "email", "maxLength": 254},
    {"title": "Notes", "x-xrm": {"type": "longtext"}},
    {"title": "Quantity", "type": "integer", "minimum": 0},
    {"title": "Big count", "x-xrm": {"type": "bigint"}},
    {"title": "Rate", "x-xrm": {"type": "decimal", "precision": 12, "scale": 2}},
    {"title": "Ratio", "type": "number"},
    {"title": "Price", "x-xrm": {"type": "money"}},
    {"title": "Active", "type": "boolean", "default": True},
    {"title": "Start date", "type": "string", "format": "date"},
    {"title": "Last contact", "type": "string", "format": "date-time"},
    {"title": "Stage", "type": "string", "enum": ["new", "qualified", "won", "lost"]},
    {
        "title": "Tags",
        "type": "array",
        "items": {"type": "string", "enum": ["vip", "press", "partner"]},
    },
    {"title": "External id", "type": "string", "format": "uuid"},
    {
        "title": "Target",
        "x-xrm": {"type": "reference", "target": TARGET_ENTITY, "onDelete": "setNull"},
    },
    {"title": "Phone", "type": "string", "format": "phone", "maxLength": 40},
    {"title": "Priority", "type": "integer", "minimum": 1, "maximum": 5},
    {"title": "Paid", "type": "boolean"},
    {"title": "End date", "type": "string", "format": "date"},
    {"title": "Region", "type": "string", "enum": ["emea", "amer", "apac"]},
]


def target_document() -> dict[str, Any]:
    """The entity that reference fields point at."""
    return {
        "x-xrm": {"name": TARGET_ENTITY, "titleField": "name"},
        "required": ["name"],
        "properties": {"name": {"type": "string", "maxLength": 80}},
    }


def entity_document(
    name: str, n_fields: int, references: tuple[str, ...] = (TARGET_ENTITY,)
) -> dict[str, Any]:
    """An entity of ``n_fields`` fields cycling through :data:`FIELD_MIX`; its reference fields
    point, in turn, at the entities in ``references``."""
    properties: dict[str, Any] = {}
    n_ref = 0
    for i in range(n_fields):
        prop = dict(FIELD_MIX[i % len(FIELD_MIX)])
        if prop.get("x-xrm", {}).get("type") == "reference":
            target = references[n_ref % len(references)]
            n_ref += 1
            prop["x-xrm"] = {**prop["x-xrm"], "target": target}
        properties[f"f{i + 1:02d}"] = {**prop, "title": f"{prop['title']} {i + 1}"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": name,
        "type": "object",
        "x-xrm": {"name": name, "titleField": "f01", "searchFields": ["f01", "f02"]},
        "required": ["f01"],
        "properties": properties,
    }


def first_record(target_id: int) -> dict[str, Any]:
    """Values for the first record of a :func:`entity_document` entity of 20 fields."""
    return {
        "f01": "First record",
        "f02": "first@example.org",
        "f03": "some\nnotes",
        "f04": 3,
        "f05": 2**40,
        "f06": "1234.56",
        "f07": 0.25,
        "f08": {"amount": "19.99", "currency": "EUR"},
        "f10": "2024-02-29",
        "f11": "2024-05-01T10:00:00+02:00",
        "f12": "qualified",
        "f13": ["vip", "press"],
        "f14": "12345678-1234-5678-1234-567812345678",
        "f15": target_id,
        "f16": "+49 30 1234567",
        "f17": 2,
        "f18": False,
        "f19": "2025-01-31",
        "f20": "emea",
    }


def rows_document(name: str) -> dict[str, Any]:
    """The entity filled with many rows in the add-a-field scenario."""
    return {
        "x-xrm": {"name": name},
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 80},
            "amount": {"type": "integer"},
            "price": {"x-xrm": {"type": "decimal", "precision": 12, "scale": 2}},
            "day": {"type": "string", "format": "date"},
            "active": {"type": "boolean"},
        },
    }


def with_field(doc: dict[str, Any], field: str) -> dict[str, Any]:
    """``doc`` plus one nullable text field."""
    return {**doc, "properties": {**doc["properties"], field: {"type": "string", "maxLength": 100}}}
