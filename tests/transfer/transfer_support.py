"""The CRM the transfer tests import into and export from, and shortcuts to do it. Records
are created through the record service, the one write path."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from xrm.core.context import SYSTEM, Actor
from xrm.core.records.service import RecordService
from xrm.core.security.access import Access
from xrm.core.tables import audit, outbox
from xrm.core.transfer import (
    ImportOptions,
    ImportReport,
    export_csv,
    export_xlsx,
    import_file,
)

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "required": ["name"],
    "properties": {"name": {"type": "string"}},
}

TAG = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}

CONTACT = {
    "x-xrm": {"name": "crm.contact", "unique": [["first", "last"]]},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "title": "Full name"},
        "email": {"type": "string", "format": "email", "x-xrm": {"unique": True}},
        "first": {"type": "string"},
        "last": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "score": {"type": "number"},
        "rating": {"x-xrm": {"type": "decimal", "precision": 10, "scale": 2}},
        "active": {"type": "boolean"},
        "born": {"type": "string", "format": "date"},
        "seen_at": {"type": "string", "format": "date-time"},
        "status": {
            "type": "string",
            "enum": ["lead", "customer", "lost"],
            "default": "lead",
            "x-xrm": {"options": [{"value": "customer", "label": "Paying customer"}]},
        },
        "channels": {
            "type": "array",
            "items": {"type": "string", "enum": ["email", "phone", "mail"]},
        },
        "budget": {"x-xrm": {"type": "money"}},
        "account": {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "setNull"}},
        "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
        "about": {"x-xrm": {"type": "regarding"}},
        "prefs": {"type": "object"},
        "notes": {"x-xrm": {"type": "longtext"}},
        "key": {"type": "string", "format": "uuid", "x-xrm": {"generate": False}},
        "salary": {"type": "integer"},
        "number": {"x-xrm": {"type": "autonumber", "format": "C-{SEQ:4}"}},
    },
}


class FixedAccess(RecordService):
    """The record service with a given :class:`Access` for its actor: field security and
    scopes without Flask-AppBuilder's tables (the checks themselves are the service's)."""

    def __init__(self, registry, access: Access, hooks: Any = None):
        super().__init__(registry, hooks)
        self.fixed = access

    def access(self, conn, actor):
        return self.fixed if actor == self.fixed.actor else super().access(conn, actor)


class Crm:
    """The test database, the record service, and shortcuts for importing and exporting."""

    def __init__(self, registry, service: RecordService | None = None):
        self.registry = registry
        self.engine = registry.engine
        self.service = service or RecordService(registry)

    def create(self, entity: str, actor: Actor = SYSTEM, **data: Any) -> int:
        with self.engine.begin() as conn:
            return self.service.create(conn, actor, entity, data)["id"]

    def get(self, entity: str, record_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self.service.get(conn, SYSTEM, entity, record_id)

    def all(self, entity: str) -> list[dict[str, Any]]:
        ce = self.registry.snapshot().entity(entity)
        with self.engine.connect() as conn:
            ids = conn.execute(
                sa.select(ce.table.c.id).where(ce.table.c.deleted_at.is_(None)).order_by("id")
            ).scalars()
            return [self.service.get(conn, SYSTEM, entity, i) for i in ids]

    def count(self, table: sa.Table | str) -> int:
        if isinstance(table, str):
            table = self.registry.snapshot().entity(table).table
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def import_(
        self,
        source: Any,
        entity: str = "crm.contact",
        actor: Actor = SYSTEM,
        **options: Any,
    ) -> ImportReport:
        """Import and commit. ``source`` as text is CSV."""
        read = {
            k: options.pop(k) for k in ("format", "delimiter", "encoding", "sheet") if k in options
        }
        if isinstance(source, str):
            source = source.encode()
        with self.engine.begin() as conn:
            return import_file(
                self.service, conn, actor, entity, source, ImportOptions(**options), **read
            )

    def export_csv(self, entity: str = "crm.contact", params: Any = None, **kw: Any) -> str:
        with self.engine.connect() as conn:
            chunks = export_csv(conn, self.registry.snapshot(conn), entity, params, **kw)
            return b"".join(chunks).decode()

    def export_xlsx(self, entity: str = "crm.contact", params: Any = None, **kw: Any) -> bytes:
        buffer = io.BytesIO()
        with self.engine.connect() as conn:
            export_xlsx(conn, self.registry.snapshot(conn), entity, buffer, params, **kw)
        return buffer.getvalue()

    def audit_count(self) -> int:
        return self.count(audit)

    def outbox_count(self) -> int:
        return self.count(outbox)


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"
