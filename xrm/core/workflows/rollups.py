"""Roll-up fields: count/sum/min/max/avg of child records, kept current by the write path.

When a child is created, updated (including moved to another parent), deleted or restored, the
roll-ups over its entity are recomputed for the old and the new parent with one aggregate query
each, and written to the parent row in the same transaction (its row version moves, so a client
holding the old version gets 412 rather than overwriting the new total). Records in the recycle
bin do not count. A changed value is audited (by the system, noted as the roll-up) and sent to
the outbox like any other write, so the history and the changes feed show it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from ..context import SYSTEM
from ..records import journal
from .catalog import Catalog
from .extras import Rollup

_AGG = {"sum": sa.func.sum, "min": sa.func.min, "max": sa.func.max, "avg": sa.func.avg}
#: Roll-up filter operators -> SQL (a child whose field is empty passes only ``null: true``
#: and ``neq``).
_TEST = {
    "eq": lambda c, v: c == v,
    "neq": lambda c, v: sa.or_(c != v, c.is_(None)),
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
    "in": lambda c, v: c.in_(v) if v else sa.false(),
    "null": lambda c, v: c.is_(None) if v else c.is_not(None),
}


def _relevant(r: Rollup, before: dict | None, after: dict | None) -> bool:
    if before is None or after is None:
        return True
    watched = {r.via, *((r.of and [r.of]) or []), *r.filter}
    return any(before.get(f) != after.get(f) for f in watched)


def refresh_for(
    conn, snap, cat: Catalog, child: str, before: dict | None, after: dict | None, now: dt.datetime
) -> None:
    for parent, r in cat.rollups_over(child):
        if not _relevant(r, before, after):
            continue
        ids = {rec.get(r.via) for rec in (before, after) if rec is not None} - {None}
        for pid in sorted(ids):
            recompute(conn, snap, parent, r, pid, now)


def value_of(conn, snap, r: Rollup, parent_id: int) -> Any:
    child = snap.entity(r.child)
    t = child.table
    via_col = t.c[child.fields[r.via].columns[0]]
    where = [via_col == parent_id, t.c.deleted_at.is_(None)]
    for name, op, value in r.conditions:
        col = t.c[child.fields[name].columns[0]]
        where.append(_TEST[op](col, value))
    if r.aggregate == "count":
        expr = sa.func.count()
    else:
        expr = _AGG[r.aggregate](t.c[child.fields[r.of].columns[0]])
    return conn.execute(sa.select(expr).where(*where)).scalar()


def recompute(conn, snap, parent: str, r: Rollup, parent_id: int, now: dt.datetime) -> None:
    pce = snap.entity(parent)
    value = value_of(conn, snap, r, parent_id)
    spec = pce.fields[r.field].spec
    if value is not None and spec.type in ("integer", "bigint"):
        value = round(value)
    elif value is not None and spec.type == "decimal":
        from decimal import ROUND_HALF_UP, Decimal

        value = Decimal(str(value)).quantize(
            Decimal(1).scaleb(-spec.opt("scale", 2)), ROUND_HALF_UP
        )
    elif value is not None and spec.type == "float":
        value = float(value)
    pt = pce.table
    row = pce.to_row({r.field: value})
    current = conn.execute(sa.select(pt).where(pt.c.id == parent_id)).mappings().first()
    if current is None or all(current[c] == v for c, v in row.items()):
        return
    written = {**row, "row_version": current["row_version"] + 1, "updated_at": now}
    conn.execute(pt.update().where(pt.c.id == parent_id).values(written))
    # Audited and in the changes feed as any write (by the system, noted as this roll-up).
    journal.record_write(
        conn,
        SYSTEM,
        pce,
        "update",
        parent_id,
        pce.dump(current),
        pce.dump({**current, **written}),
        extra={"workflow": {"rollup": r.field}},
    )


def recompute_all(conn, snap, cat: Catalog, parent: str) -> int:
    """Recompute every roll-up of ``parent`` for all its records (after a rule set is saved)."""
    n = 0
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for x in cat.extras_of(parent):
        for r in x.rollups:
            for pid in conn.execute(sa.select(snap.entity(parent).table.c.id)).scalars():
                recompute(conn, snap, parent, r, pid, now)
                n += 1
    return n
