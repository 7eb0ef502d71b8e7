"""Writing a record's many-to-many links on update (creates write theirs set-based, in
:mod:`.batch`)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ..security.access import Access
from . import reading


def replace_links(
    conn: sa.Connection,
    snap: MetadataSnapshot,
    ce: CompiledEntity,
    record_id: int,
    values: Mapping,
    access: Access,
) -> None:
    """Make the record's many-to-many links to what the writer can see equal ``values``;
    links to records the writer cannot see (outside their scope, in the recycle bin) are
    kept: the writer replaced the list they were shown."""
    for fname, assoc in ce.associations.items():
        if fname not in values:
            continue
        wanted = set(values[fname] or [])
        stale = [assoc.c.source_id == record_id]
        if wanted:
            stale.append(assoc.c.target_id.not_in(sorted(wanted)))
        target = snap.entities.get(ce.fields[fname].spec.opt("target"))
        if target is not None:
            tt = target.table
            visible = sa.select(tt.c.id).where(*reading.scoped(target, access))
            stale.append(assoc.c.target_id.in_(visible))
        conn.execute(assoc.delete().where(*stale))
        if wanted:
            kept = sa.select(assoc.c.target_id).where(assoc.c.source_id == record_id)
            new = wanted - set(conn.execute(kept).scalars())
            if new:
                conn.execute(
                    assoc.insert(),
                    [{"source_id": record_id, "target_id": i} for i in sorted(new)],
                )
