"""Soft deletion with the definition's reference rules, restore and purge.

Deleting a record moves it (and what its references cascade to) into the recycle bin: rows get
``deleted_at`` and a bin entry sharing one batch id. The on-delete rule of every reference to it
is honoured as the database would: ``restrict`` refuses while live records refer to it,
``cascade`` deletes them too (same batch, so they are restored together), ``setNull`` clears the
reference. Purging removes the rows for good; restoring clears ``deleted_at`` for the batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from ...metadata.compiler import MetadataSnapshot
from ...metadata.store import utcnow
from ..tables import recycle_bin
from .errors import RecordConflict, RecordNotFound


@dataclass
class Deletion:
    """What deleting one record implies: rows to soft-delete (in order) and references to clear."""

    batch: str = field(default_factory=lambda: str(uuid.uuid4()))
    records: list[tuple[str, int]] = field(default_factory=list)
    clear: list[tuple[str, str, list[int]]] = field(default_factory=list)


def plan_deletion(
    conn: sa.Connection, snap: MetadataSnapshot, entity: str, record_id: int
) -> Deletion:
    deletion = Deletion()
    seen: set[tuple[str, int]] = set()

    def visit(name: str, ids: list[int]) -> None:
        fresh = [i for i in ids if (name, i) not in seen]
        if not fresh:
            return
        seen.update((name, i) for i in fresh)
        deletion.records.extend((name, i) for i in fresh)
        for other in snap.entities.values():
            for cf in other.fields.values():
                if cf.spec.type != "reference" or cf.spec.opt("target") != name:
                    continue
                t = other.table
                col = t.c[cf.name]
                children = list(
                    conn.execute(
                        sa.select(t.c.id).where(col.in_(fresh), t.c.deleted_at.is_(None))
                    ).scalars()
                )
                children = [c for c in children if (other.name, c) not in seen]
                if not children:
                    continue
                rule = cf.spec.opt("onDelete", "restrict")
                if rule == "restrict":
                    raise RecordConflict(
                        f"{name} {fresh[0] if len(fresh) == 1 else fresh} cannot be deleted: "
                        f"{len(children)} {other.definition.label_plural} refer to it through "
                        f"{other.name}.{cf.name} (on delete: restrict)",
                        [
                            {
                                "pointer": f"/{cf.name}",
                                "field": cf.name,
                                "entity": other.name,
                                "message": f"referenced by {other.name} {children[:5]}",
                            }
                        ],
                    )
                if rule == "cascade":
                    visit(other.name, children)
                else:
                    deletion.clear.append((other.name, cf.name, children))

    visit(entity, [record_id])
    return deletion


def mark_deleted(
    conn: sa.Connection, snap: MetadataSnapshot, deletion: Deletion, actor_id: int | None
) -> None:
    now = utcnow()
    root = deletion.records[0]
    for name, rid in deletion.records:
        ce = snap.entity(name)
        t = ce.table
        conn.execute(
            t.update().where(t.c.id == rid).values(deleted_at=now, row_version=t.c.row_version + 1)
        )
        title = None
        tf = ce.definition.title_field
        if tf and tf in t.c:
            title = conn.execute(sa.select(t.c[tf]).where(t.c.id == rid)).scalar()
        conn.execute(
            recycle_bin.insert().values(
                batch=deletion.batch,
                entity=name,
                record_id=rid,
                root=(name, rid) == root,
                deleted_at=now,
                deleted_by=actor_id,
                title=str(title)[:255] if title is not None else None,
            )
        )


def batch_of(conn: sa.Connection, entity: str, record_id: int) -> list[tuple[str, int]]:
    batch = conn.execute(
        sa.select(recycle_bin.c.batch).where(
            recycle_bin.c.entity == entity, recycle_bin.c.record_id == record_id
        )
    ).scalar()
    if batch is None:
        raise RecordNotFound(f"{entity} {record_id} is not in the recycle bin")
    rows = conn.execute(
        sa.select(recycle_bin.c.entity, recycle_bin.c.record_id)
        .where(recycle_bin.c.batch == batch)
        .order_by(recycle_bin.c.id)
    ).all()
    return [(r.entity, r.record_id) for r in rows]


def restore_rows(conn: sa.Connection, snap: MetadataSnapshot, rows: list[tuple[str, int]]) -> None:
    for name, rid in rows:
        t = snap.entity(name).table
        conn.execute(
            t.update().where(t.c.id == rid).values(deleted_at=None, row_version=t.c.row_version + 1)
        )
        conn.execute(
            recycle_bin.delete().where(recycle_bin.c.entity == name, recycle_bin.c.record_id == rid)
        )


def purge_rows(conn: sa.Connection, snap: MetadataSnapshot, rows: list[tuple[str, int]]) -> int:
    """Delete for good, dependants first (the batch lists roots before what they cascaded to)."""
    n = 0
    for name, rid in reversed(rows):
        t = snap.entity(name).table
        try:
            with conn.begin_nested():
                n += conn.execute(
                    t.delete().where(t.c.id == rid, t.c.deleted_at.is_not(None))
                ).rowcount
        except sa.exc.IntegrityError:
            raise RecordConflict(
                f"{name} {rid} cannot be purged: other records (perhaps in the recycle bin) still "
                "refer to it; purge or change those first"
            ) from None
        conn.execute(
            recycle_bin.delete().where(recycle_bin.c.entity == name, recycle_bin.c.record_id == rid)
        )
    return n


def list_bin(conn: sa.Connection, entity: str | None = None, limit: int = 200) -> list[dict]:
    q = (
        sa.select(recycle_bin)
        .where(recycle_bin.c.root.is_(True))
        .order_by(recycle_bin.c.id.desc())
        .limit(limit)
    )
    if entity:
        q = q.where(recycle_bin.c.entity == entity)
    return [
        {
            "entity": r.entity,
            "id": r.record_id,
            "title": r.title,
            "deletedAt": r.deleted_at.isoformat() + "Z",
            "deletedBy": r.deleted_by,
            "batch": r.batch,
        }
        for r in conn.execute(q)
    ]
