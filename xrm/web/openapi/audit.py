"""The administrators' audit log (``GET /admin/audit``), as OpenAPI."""

from __future__ import annotations

from typing import Any

from .administration import ADMIN
from .common import MAX_ID, json_response, operation


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def audit_paths() -> dict[str, Any]:
    when = {"type": "string", "maxLength": 40}
    entry = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "entity": {"type": "string"},
            "recordId": {"type": "integer"},
            "action": {"type": "string", "description": "create, update, delete, restore..."},
            "actor": {"type": "string"},
            "actorId": {"type": ["integer", "null"]},
            "at": {"type": "string", "format": "date-time"},
            "changes": {
                "type": "object",
                "description": "field -> [old value, new value]",
                "additionalProperties": {"type": "array"},
            },
        },
        "required": ["id", "entity", "recordId", "action", "actor", "at", "changes"],
    }
    return {
        "/admin/audit": {
            "get": operation(
                "admin.audit.list",
                "The audit log",
                [ADMIN],
                {
                    "200": json_response(
                        "Entries, newest first; `next` is the `before` of the next page.",
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": entry},
                                "next": {"type": ["string", "null"]},
                            },
                            "required": ["items", "next"],
                        },
                    )
                },
                (400, 403),
                description="Every record write with each field's old and new value. "
                "Administrators only. Filters combine with AND.",
                parameters=[
                    _query(
                        "entity",
                        "Entity name, e.g. crm.contact.",
                        {"type": "string", "maxLength": 60},
                    ),
                    _query(
                        "record",
                        "Record id (needs `entity`).",
                        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    ),
                    _query(
                        "user",
                        "User name of who made the change.",
                        {"type": "string", "maxLength": 100},
                    ),
                    _query(
                        "action",
                        "create, update, delete, restore...",
                        {"type": "string", "maxLength": 20},
                    ),
                    _query("from", "From this date (2025-03-31) or ISO 8601 date-time, UTC.", when),
                    _query("to", "Up to this date (the whole day) or date-time, UTC.", when),
                    _query(
                        "limit",
                        "Entries per page (default 50).",
                        {"type": "integer", "minimum": 1, "maximum": 500},
                    ),
                    _query(
                        "before",
                        "Cursor: the `next` of the previous page.",
                        {"type": "string", "pattern": "^[0-9]{1,19}$"},
                    ),
                ],
            )
        }
    }
