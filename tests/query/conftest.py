"""A small CRM to query: accounts (with a parent account), contacts, tags; every field type a
filter can meet. Records are created through the record service, the one write path."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM
from xrm.core.query import QueryResult, run_query
from xrm.core.query.plans import PlanCache
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
        #: Shared by the queries of a test: a query of a shape asked before runs its plan again.
        self.plans = PlanCache()

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
        """Run the query built anew, then twice through the test's plan cache (built or found
        there, then found): every answer, or error, must be the same."""
        with self.engine.connect() as conn:
            snap = self.registry.snapshot(conn)
            plain = _outcome(lambda: run_query(conn, snap, entity, params or {}, **options))
            for _ in range(2):
                cached = _outcome(
                    lambda: run_query(conn, snap, entity, params or {}, plans=self.plans, **options)
                )
                assert cached == plain, f"cached plan: {cached!r}, built anew: {plain!r}"
        if isinstance(plain, _Failure):
            raise plain.error
        return plain

    def query_once(self, entity: str, params: Any = None, **options: Any) -> QueryResult:
        """Run the query once, through the test's plan cache (to count its statements)."""
        with self.engine.connect() as conn:
            snap = self.registry.snapshot(conn)
            return run_query(conn, snap, entity, params or {}, plans=self.plans, **options)

    def ids(self, entity: str, params: Any = None, **options: Any) -> list[int]:
        return [r["id"] for r in self.query(entity, params, **options).items]

    def table(self, entity: str) -> sa.Table:
        return self.registry.snapshot().entity(entity).table


class _Failure:
    def __init__(self, error: Exception):
        self.error = error

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Failure)
            and type(self.error) is type(other.error)
            and str(self.error) == str(other.error)
            and getattr(self.error, "problems", None) == getattr(other.error, "problems", None)
        )

    def __repr__(self) -> str:
        return f"_Failure({self.error!r})"


def _outcome(run) -> Any:
    try:
        return run()
    except Exception as exc:
        return _Failure(exc)


@pytest.fixture
def crm(registry) -> Crm:
    registry.apply(registry.plan([TAG, ACCOUNT, CONTACT]))
    return Crm(registry)
