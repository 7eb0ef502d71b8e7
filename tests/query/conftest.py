"""A small CRM to query: accounts (with a parent account), contacts, tags; every field type a
filter can meet. Records are created through the record service, the one write path."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM
from xrm.core.query import QueryResult, run_query
from xrm.core.records.service import RecordService

TAG = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "properties": {
        "name": {"type": "string"},
        "city": {"type": "string"},
        "tier": {"type": "string", "enum": ["gold", "silver", "bronze"]},
        "parent": {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "setNull"}},
        "revenue": {"x-xrm": {"type": "money"}},
        "secret": {"type": "string"},
        "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
    },
}

CONTACT = {
    "x-xrm": {"name": "crm.contact"},
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "email": {"type": "string", "format": "email"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "score": {"type": "number"},
        "rating": {"x-xrm": {"type": "decimal", "precision": 10, "scale": 2}},
        "active": {"type": "boolean"},
        "born": {"type": "string", "format": "date"},
        "seen_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["lead", "customer", "lost"]},
        "channels": {
            "type": "array",
            "items": {"type": "string", "enum": ["email", "phone", "mail"]},
        },
        "account": {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "setNull"}},
        "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
        "budget": {"x-xrm": {"type": "money"}},
        "prefs": {"type": "object"},
        "notes": {"x-xrm": {"type": "longtext"}},
        "about": {"x-xrm": {"type": "regarding"}},
        "key": {"type": "string", "format": "uuid"},
    },
}


class Crm:
    """Create records and run queries on the test database."""

    def __init__(self, registry):
        self.registry = registry
        self.engine = registry.engine
        self.service = RecordService(registry)

    def create(self, entity: str, **data: Any) -> int:
        with self.engine.begin() as conn:
            return self.service.create(conn, SYSTEM, entity, data)["id"]

    def soft_delete(self, entity: str, record_id: int) -> None:
        table = self.registry.snapshot().entity(entity).table
        with self.engine.begin() as conn:
            conn.execute(
                table.update().where(table.c.id == record_id).values(deleted_at=sa.func.now())
            )

    def query(self, entity: str, params: Any = None, **options: Any) -> QueryResult:
        with self.engine.connect() as conn:
            return run_query(conn, self.registry.snapshot(conn), entity, params or {}, **options)

    def ids(self, entity: str, params: Any = None, **options: Any) -> list[int]:
        return [r["id"] for r in self.query(entity, params, **options).items]

    def table(self, entity: str) -> sa.Table:
        return self.registry.snapshot().entity(entity).table


@pytest.fixture
def crm(registry) -> Crm:
    registry.apply(registry.plan([TAG, ACCOUNT, CONTACT]))
    return Crm(registry)
