"""The record service: the one write path for entity records.

Every create, update and delete, from the API, the UI, imports, workflow actions or plugin code,
goes through here, in this order (the documented order of execution):

1. permission: the actor's entity permission, record scope and field-level write rights;
2. defaults (create) and validation against the entity's definition (every problem at once);
3. generated values (uuid, autonumber), reference and uniqueness checks;
4. plugin ``before`` hooks (may change values or veto with a message);
5. SQL (optimistic concurrency on ``row_version``);
6. audit entry (each field's old and new value), when the entity is audited;
7. outbox message, in the same transaction;
8. plugin ``after`` hooks.

Deleting moves records to the recycle bin (see :mod:`.recyclebin`).
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
from ..security.access import Access, AccessDenied, resolve_access
from . import audit, outbox, recyclebin
from .autonumber import next_number
from .errors import RecordConflict, RecordInvalid, RecordNotFound, RecordVersionMismatch
from .events import RecordEvent

SYSTEM_KEYS = (
    "id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner_id",
    "row_version",
)


class RecordService:
    def __init__(self, registry: MetadataRegistry, hooks: Any = None):
        self.registry = registry
        self.hooks = hooks

    # -- access ---------------------------------------------------------------------------------

    def access(self, conn: sa.Connection, actor: Actor) -> Access:
        return resolve_access(conn, actor)

    def _scoped(self, ce: CompiledEntity, access: Access, *clauses):
        t = ce.table
        where = [t.c.deleted_at.is_(None), *clauses]
        scope = access.scope_clause(ce.name, t)
        if scope is not None:
            where.append(scope)
        return where

    # -- reads ----------------------------------------------------------------------------------

    def get(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        *,
        access: Access | None = None,
    ) -> dict[str, Any]:
        access = access or self.access(conn, actor)
        access.require(entity, "read")
        ce = self.registry.snapshot(conn).entity(entity)
        record = self._fetch(conn, ce, record_id, access)
        if record is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        return record

    def _fetch(
        self, conn: sa.Connection, ce: CompiledEntity, record_id: int, access: Access | None
    ) -> dict[str, Any] | None:
        t = ce.table
        where = self._scoped(ce, access, t.c.id == record_id) if access else [t.c.id == record_id]
        row = conn.execute(sa.select(t).where(*where)).mappings().first()
        if row is None:
            return None
        record = ce.dump(row)
        snap = self.registry.current
        for fname, assoc in ce.associations.items():
            q = sa.select(assoc.c.target_id).where(assoc.c.source_id == record_id)
            target = snap.entities.get(ce.fields[fname].spec.opt("target")) if snap else None
            if target is not None:  # links to records in the recycle bin are not shown
                tt = target.table
                q = q.join(tt, tt.c.id == assoc.c.target_id).where(tt.c.deleted_at.is_(None))
                if (
                    access is not None
                    and (scope := access.scope_clause(target.name, tt)) is not None
                ):
                    q = q.where(scope)
            record[fname] = list(conn.execute(q.order_by(assoc.c.target_id)).scalars())
        for hidden in access.hidden(ce.name) if access else ():
            record.pop(hidden, None)
        return record

    def history(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        *,
        access: Access | None = None,
    ) -> list[dict]:
        access = access or self.access(conn, actor)
        self.get(conn, actor, entity, record_id, access=access)  # readable, in scope
        return audit.history(conn, entity, record_id, set(access.hidden(entity)))

    # -- writes ---------------------------------------------------------------------------------

    def create(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        data: Mapping[str, Any],
        *,
        access: Access | None = None,
        lenient: bool = False,
    ) -> dict[str, Any]:
        access = access or self.access(conn, actor)
        access.require(entity, "create")
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        self._check_field_rights(ce, access, data)
        values = ce.defaults()
        given, problems = ce.validate(data, lenient=lenient)
        values.update(given)
        if problems:
            raise RecordInvalid(
                f"{entity}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
            )
        now = utcnow()
        self._generate(conn, ce, values, now)
        self._check_references(conn, snap, ce, values)
        self._check_unique(conn, ce, values, None)
        event = RecordEvent(entity, "create", actor, conn, self, values=values)
        self._hook("xrm_before_create", event)
        owner = actor.user_id
        if "owner_id" in data and actor.is_admin:
            owner = data["owner_id"]
        row = ce.to_row({k: v for k, v in values.items() if not ce.fields[k].type.association})
        row.update(
            created_at=now,
            updated_at=now,
            created_by=actor.user_id,
            updated_by=actor.user_id,
            owner_id=owner if ce.definition.ownership == "user" else None,
            row_version=1,
        )
        record_id = conn.execute(
            ce.table.insert().values(row).returning(ce.table.c.id)
        ).scalar_one()
        self._write_links(conn, ce, record_id, values, replace=False)
        after = self._fetch(conn, ce, record_id, None)
        self._record(conn, actor, ce, "create", record_id, None, after)
        event.record_id, event.after = record_id, after
        self._hook("xrm_after_create", event)
        return self._visible(access, ce, after)

    def update(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        data: Mapping[str, Any],
        expected_version: int | None = None,
        *,
        access: Access | None = None,
        lenient: bool = False,
    ) -> dict[str, Any]:
        access = access or self.access(conn, actor)
        access.require(entity, "update")
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        t = ce.table
        before = self._fetch(conn, ce, record_id, access)
        if before is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        current = before["row_version"]
        if expected_version is not None and current != expected_version:
            raise RecordVersionMismatch(
                f"{entity} {record_id} was changed by someone else (version {current}, you had {expected_version})"
            )
        self._check_field_rights(ce, access, data)
        values, problems = ce.validate(data, partial=True, lenient=lenient)
        if problems:
            raise RecordInvalid(
                f"{entity}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
            )
        self._check_references(conn, snap, ce, values)
        self._check_unique(conn, ce, values, record_id)
        full_before = self._fetch(conn, ce, record_id, None)  # audit compares the whole record
        event = RecordEvent(
            entity, "update", actor, conn, self, record_id=record_id, values=values, before=before
        )
        self._hook("xrm_before_update", event)
        row = ce.to_row({k: v for k, v in values.items() if not ce.fields[k].type.association})
        if "owner_id" in data and actor.is_admin:
            row["owner_id"] = data["owner_id"]
        row.update(updated_at=utcnow(), updated_by=actor.user_id, row_version=current + 1)
        res = conn.execute(
            t.update().where(t.c.id == record_id, t.c.row_version == current).values(row)
        )
        if res.rowcount != 1:
            raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
        self._write_links(conn, ce, record_id, values, replace=True)
        after = self._fetch(conn, ce, record_id, None)
        self._record(conn, actor, ce, "update", record_id, full_before, after)
        event.after = after
        self._hook("xrm_after_update", event)
        return self._visible(access, ce, after)

    def delete(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        expected_version: int | None = None,
        *,
        access: Access | None = None,
    ) -> None:
        """Move the record (and what it cascades to) to the recycle bin."""
        access = access or self.access(conn, actor)
        access.require(entity, "delete")
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        before = self._fetch(conn, ce, record_id, access)
        if before is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        if expected_version is not None and before["row_version"] != expected_version:
            raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
        event = RecordEvent(entity, "delete", actor, conn, self, record_id=record_id, before=before)
        self._hook("xrm_before_delete", event)
        deletion = recyclebin.plan_deletion(conn, snap, entity, record_id)
        for other, fname, ids in deletion.clear:
            for child in ids:
                self.update(
                    conn,
                    actor,
                    other,
                    child,
                    {fname: None},
                    access=Access(actor=_system_like(actor)),
                )
        recyclebin.mark_deleted(conn, snap, deletion, actor.user_id)
        for name, rid in deletion.records:
            other = snap.entity(name)
            self._record(
                conn, actor, other, "delete", rid, None, None, extra={"batch": deletion.batch}
            )
        self._hook("xrm_after_delete", event)

    def restore(
        self, conn: sa.Connection, actor: Actor, entity: str, record_id: int
    ) -> dict[str, Any]:
        """Bring a record back from the recycle bin, with everything deleted together with it."""
        if not actor.is_admin:
            raise AccessDenied("only administrators may restore records from the recycle bin")
        snap = self.registry.snapshot(conn)
        rows = recyclebin.batch_of(conn, entity, record_id)
        recyclebin.restore_rows(conn, snap, rows)
        for name, rid in rows:
            ce = snap.entity(name)
            self._record(conn, actor, ce, "restore", rid, None, self._fetch(conn, ce, rid, None))
        return self._fetch(conn, snap.entity(entity), record_id, None)

    def purge(self, conn: sa.Connection, actor: Actor, entity: str, record_id: int) -> int:
        """Delete a record in the recycle bin (and its batch) for good."""
        if not actor.is_admin:
            raise AccessDenied("only administrators may purge the recycle bin")
        snap = self.registry.snapshot(conn)
        return recyclebin.purge_rows(conn, snap, recyclebin.batch_of(conn, entity, record_id))

    # -- steps ----------------------------------------------------------------------------------

    def _hook(self, name: str, event: RecordEvent) -> None:
        if self.hooks is not None:
            getattr(self.hooks, name)(event=event)

    def _record(
        self,
        conn,
        actor: Actor,
        ce: CompiledEntity,
        action: str,
        record_id: int,
        before: dict | None,
        after: dict | None,
        extra: dict | None = None,
    ) -> None:
        fields = [*ce.fields]
        changes = audit.diff(before, after, fields) if action in ("create", "update") else {}
        if ce.definition.audit:
            audit.write(conn, actor, ce.name, record_id, action, changes)
        version = (after or {}).get("row_version")
        key = f"{ce.name}:{record_id}:{action}:{version if version is not None else uuid.uuid4()}"
        payload = {
            "entity": ce.name,
            "id": record_id,
            "action": action,
            "record": after,
            "changes": changes,
            "actor": actor.username,
            **(extra or {}),
        }
        outbox.enqueue(
            conn,
            f"record.{action}d",
            key,
            payload,
            ce.name,
            record_id,
        )

    def _visible(self, access: Access, ce: CompiledEntity, record: dict) -> dict:
        hidden = access.hidden(ce.name)
        return {k: v for k, v in record.items() if k not in hidden} if hidden else record

    def _check_field_rights(
        self, ce: CompiledEntity, access: Access, data: Mapping[str, Any]
    ) -> None:
        denied = [f for f in data if f in access.readonly(ce.name) or f in access.hidden(ce.name)]
        if denied:
            raise AccessDenied(
                f"{access.actor.username} may not write {', '.join(denied)} of {ce.name}",
                [
                    {"pointer": f"/{f}", "field": f, "message": "you may not write this field"}
                    for f in denied
                ],
            )

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
            q = sa.select(t.c.id, t.c.deleted_at).where(*(t.c[c] == row[c] for c in cols))
            if record_id is not None:
                q = q.where(t.c.id != record_id)
            clash = conn.execute(q.limit(1)).first()
            if clash is not None:
                labels = ", ".join(f.spec.label for f in fields)
                where = (
                    " (in the recycle bin: restore or purge it)"
                    if clash.deleted_at is not None
                    else ""
                )
                raise RecordConflict(
                    f"{ce.name} {clash.id}{where} already has the same {labels}",
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


def _system_like(actor: Actor) -> Actor:
    """The same actor with rights to apply the reference rules of a delete it may do."""
    return Actor(user_id=actor.user_id, username=actor.username, roles=actor.roles, is_admin=True)
