"""What a plugin owns in the database: the entities whose base layer it supplies, its
extension layers on other entities, and how many rows hold data in them."""

from __future__ import annotations

import json

import sqlalchemy as sa

from ...metadata import store
from ...metadata.layers import EXTENSION_PREFIX
from ...metadata.registry import MetadataRegistry


def owned_by(
    registry: MetadataRegistry, conn: sa.Connection, name: str
) -> tuple[list[str], list[tuple[str, dict]]]:
    """The live entities whose base layer the plugin owns, and its extension layers as
    (entity, document) pairs."""
    live = set(registry.snapshot(conn).entities)
    source = f"plugin:{name}"
    entities = sorted(e for e, s in registry.sources(conn).items() if s == source)
    lt = store.entity_layer
    rows = conn.execute(
        sa.select(lt.c.entity, lt.c.document).where(lt.c.layer == f"{EXTENSION_PREFIX}{name}")
    ).all()
    extensions = [(r.entity, json.loads(r.document)) for r in rows if r.entity in live]
    return [e for e in entities if e in live], sorted(extensions, key=lambda x: x[0])


def data_held(
    registry: MetadataRegistry,
    conn: sa.Connection,
    entities: list[str],
    extensions: list[tuple[str, dict]],
) -> dict[str, int]:
    """``entity`` -> rows (all of them, the recycle bin included) and ``entity.field`` -> rows
    where an extension field has a value; only what holds data is listed."""
    snap = registry.snapshot(conn)
    data = {}
    for e in entities:
        n = conn.execute(sa.select(sa.func.count()).select_from(snap.entity(e).table)).scalar()
        if n:
            data[e] = n
    for e, doc in extensions:
        ce = snap.entity(e)
        for fname in doc.get("properties") or {}:
            cf = ce.fields.get(fname)
            if cf is None or not cf.columns:
                continue
            t = ce.table
            held = sa.or_(*(t.c[c].is_not(None) for c in cf.columns))
            n = conn.execute(sa.select(sa.func.count()).select_from(t).where(held)).scalar()
            if n:
                data[f"{e}.{fname}"] = n
    return data
