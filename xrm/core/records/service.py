"""The record service: the one write path for entity records.

Every create, update and delete, from the API, the UI, imports, workflow actions or plugin code,
goes through here. This first version does: defaults, validation against the entity's definition,
generated values (uuid, autonumber), reference and uniqueness checks with clear errors, many-to-
many links, optimistic concurrency on ``row_version`` and system columns. Permissions, audit,
hooks and the outbox plug in at the marked steps (issue #3).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.registry import MetadataRegistry
from ...metadata.store import utcnow
from ..context import Actor
from .autonumber import next_number
from .errors import RecordConflict, RecordInvalid, RecordNotFound, RecordVersionMismatch


class RecordService:
    def __init__(self, registry: MetadataRegistry):
        self.registry = registry

    # -- reads ----------------------------------------------------------------------------------

    def get(self, conn: sa.Connection, actor: Actor, entity: str, record_id: int) -> dict[str, Any]:
        ce = self.registry.snapshot(conn).entity(entity)
        return self._fetch(conn, ce, record_id)

    def _fetch(self, conn: sa.Connection, ce: CompiledEntity, record_id: int) -> dict[str, Any]:
        t = ce.table
        row = (
            conn.execute(sa.select(t).where(t.c.id == record_id, t.c.deleted_at.is_(None)))
            .mappings()
            .first()
        )
        if row is None:
            raise RecordNotFound(f"{ce.name} {record_id} does not exist")
        record = ce.dump(row)
        for fname, assoc in ce.associations.items():
            record[fname] = list(
                conn.execute(
                    sa.select(assoc.c.target_id)
                    .where(assoc.c.source_id == record_id)
                    .order_by(assoc.c.target_id)
                ).scalars()
            )
        return record

    # -- writes ---------------------------------------------------------------------------------

    def create(
        self, conn: sa.Connection, actor: Actor, entity: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        # (permission check: issue #3)
        values = ce.defaults()
        given, problems = ce.validate(data)
        values.update(given)
        if problems:
            raise RecordInvalid(
                f"{entity}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
            )
        now = utcnow()
        self._generate(conn, ce, values, now)
        self._check_references(conn, snap, ce, values)
        self._check_unique(conn, ce, values, None)
        row = ce.to_row({k: v for k, v in values.items() if not ce.fields[k].type.association})
        row.update(
            created_at=now,
            updated_at=now,
            created_by=actor.user_id,
            updated_by=actor.user_id,
            owner_id=data.get("owner_id", actor.user_id)
            if ce.definition.ownership == "user"
            else None,
            row_version=1,
        )
        record_id = conn.execute(
            ce.table.insert().values(row).returning(ce.table.c.id)
        ).scalar_one()
        self._write_links(conn, ce, record_id, values, replace=False)
        # (audit, hooks, outbox: issue #3)
        return self._fetch(conn, ce, record_id)

    def update(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        data: Mapping[str, Any],
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        t = ce.table
        current = conn.execute(
            sa.select(t.c.row_version).where(t.c.id == record_id, t.c.deleted_at.is_(None))
        ).scalar()
        if current is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        if expected_version is not None and current != expected_version:
            raise RecordVersionMismatch(
                f"{entity} {record_id} was changed by someone else (version {current}, you had {expected_version})"
            )
        values, problems = ce.validate(data, partial=True)
        if problems:
            raise RecordInvalid(
                f"{entity}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
            )
        self._check_references(conn, snap, ce, values)
        self._check_unique(conn, ce, values, record_id)
        row = ce.to_row({k: v for k, v in values.items() if not ce.fields[k].type.association})
        row.update(updated_at=utcnow(), updated_by=actor.user_id, row_version=current + 1)
        res = conn.execute(
            t.update().where(t.c.id == record_id, t.c.row_version == current).values(row)
        )
        if res.rowcount != 1:
            raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
        self._write_links(conn, ce, record_id, values, replace=True)
        return self._fetch(conn, ce, record_id)

    def delete(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        expected_version: int | None = None,
    ) -> None:
        ce = self.registry.snapshot(conn).entity(entity)
        t = ce.table
        current = conn.execute(sa.select(t.c.row_version).where(t.c.id == record_id)).scalar()
        if current is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        if expected_version is not None and current != expected_version:
            raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
        try:
            with conn.begin_nested():
                conn.execute(t.delete().where(t.c.id == record_id))
        except sa.exc.IntegrityError:
            raise RecordConflict(
                f"{entity} {record_id} cannot be deleted: other records refer to it"
            ) from None

    # -- steps ----------------------------------------------------------------------------------

    def _generate(
        self, conn: sa.Connection, ce: CompiledEntity, values: dict, now: dt.datetime
    ) -> None:
        for cf in ce.fields.values():
            if (
                cf.spec.type == "uuid"
                and values.get(cf.name) is None
                and cf.spec.opt("generate", True)
            ):
                values[cf.name] = uuid.uuid4()
            elif cf.spec.type == "autonumber":
                values[cf.name] = next_number(
                    conn, ce.name, cf.name, cf.spec.opt("format"), now.date()
                )

    def _check_references(
        self, conn, snap: MetadataSnapshot, ce: CompiledEntity, values: Mapping
    ) -> None:
        problems = []
        for name, value in values.items():
            cf = ce.fields[name]
            if value is None or cf.spec.type not in ("reference", "manytomany", "regarding"):
                continue
            if cf.spec.type == "regarding":
                target_name, ids = value[0], [value[1]]
            else:
                target_name, ids = (
                    cf.spec.opt("target"),
                    value if isinstance(value, list) else [value],
                )
            if not ids:
                continue
            target = snap.entities.get(target_name)
            if target is None:
                problems.append(
                    {
                        "pointer": f"/{name}",
                        "field": name,
                        "message": f"entity {target_name!r} does not exist",
                    }
                )
                continue
            tt = target.table
            found = set(
                conn.execute(
                    sa.select(tt.c.id).where(tt.c.id.in_(ids), tt.c.deleted_at.is_(None))
                ).scalars()
            )
            missing = [i for i in ids if i not in found]
            if missing:
                problems.append(
                    {
                        "pointer": f"/{name}",
                        "field": name,
                        "message": f"{cf.spec.label}: {target_name} {', '.join(map(str, missing))} does not exist",
                    }
                )
        if problems:
            raise RecordInvalid(f"{ce.name}: reference to a missing record", problems)

    def _check_unique(
        self, conn, ce: CompiledEntity, values: Mapping, record_id: int | None
    ) -> None:
        t = ce.table
        for ix in t.indexes:
            if not ix.unique:
                continue
            cols = [c.name for c in ix.columns]
            fields = [f for f in ce.fields.values() if set(f.columns) & set(cols)]
            if not any(f.name in values for f in fields):
                continue
            if record_id is None:
                row = ce.to_row({f.name: values.get(f.name) for f in fields})
            else:
                current = (
                    conn.execute(sa.select(*(t.c[c] for c in cols)).where(t.c.id == record_id))
                    .mappings()
                    .one()
                )
                row = dict(current)
                row.update(ce.to_row({f.name: values[f.name] for f in fields if f.name in values}))
            if any(row.get(c) is None for c in cols):
                continue
            q = sa.select(t.c.id).where(*(t.c[c] == row[c] for c in cols))
            if record_id is not None:
                q = q.where(t.c.id != record_id)
            clash = conn.execute(q.limit(1)).scalar()
            if clash is not None:
                labels = ", ".join(f.spec.label for f in fields)
                raise RecordConflict(
                    f"{ce.name} {clash} already has the same {labels}",
                    [
                        {
                            "pointer": f"/{f.name}",
                            "field": f.name,
                            "message": f"{f.spec.label} must be unique",
                        }
                        for f in fields
                    ],
                )

    def _write_links(
        self, conn, ce: CompiledEntity, record_id: int, values: Mapping, replace: bool
    ) -> None:
        for fname, assoc in ce.associations.items():
            if fname not in values:
                continue
            if replace:
                conn.execute(assoc.delete().where(assoc.c.source_id == record_id))
            ids = values[fname] or []
            if ids:
                conn.execute(
                    assoc.insert(), [{"source_id": record_id, "target_id": i} for i in ids]
                )
