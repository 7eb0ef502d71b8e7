"""Time in state: one row per stay of a record in a workflow state."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from ...metadata.statements import Prepared
from .tables import approval, state_log


def enter(
    conn, wf, record_id: int, state: str | None, transition: str | None, actor, now: dt.datetime
) -> None:
    if state is None:
        return
    _ENTER.run(
        conn,
        {
            "entity": wf.entity.name,
            "record_id": record_id,
            "workflow": wf.name,
            "state": state,
            "entered_at": now,
            "transition": transition,
            "actor_id": getattr(actor, "user_id", None),
            "timers_fired": "[]",
        },
    )


# The statements of a transition, built and compiled once (see :mod:`xrm.core.statements`).
_ENTER = Prepared(state_log.insert())
_LEAVE = Prepared(
    state_log.update()
    .where(state_log.c.id == sa.bindparam("stay_id"))
    .values(left_at=sa.bindparam("now"), seconds=sa.bindparam("secs"))
)


class _SecondsSince(sa.sql.functions.GenericFunction):
    """Seconds from a DATETIME column to a DATETIME parameter, exactly as Python's
    ``(end - start).total_seconds()`` gives them (whole microseconds over 10**6)."""

    type = sa.Float()
    name = "xrm_seconds_since"
    inherit_cache = True


@compiles(_SecondsSince)
def _seconds_since(element, compiler, **kw):
    # EXTRACT gives the interval's seconds as an exact numeric (PostgreSQL 14+), which the
    # cast rounds to the nearest double, as Python's division does.
    start, end = list(element.clauses)
    return (
        f"CAST(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) AS DOUBLE PRECISION)"
    )


#: Close the record's open stay in a workflow, with its length, in one statement (PostgreSQL:
#: one round trip instead of two). Not on SQLite, whose date functions round to milliseconds:
#: computing exact seconds from its text in SQL cost more than the SELECT it saved.
_OPEN_STAYS = Prepared(
    sa.select(state_log.c.id, state_log.c.entered_at).where(
        state_log.c.entity == sa.bindparam("entity"),
        state_log.c.record_id == sa.bindparam("record_id"),
        state_log.c.workflow == sa.bindparam("workflow"),
        state_log.c.left_at.is_(None),
    )
)
_CLOSE_STAY = Prepared(
    state_log.update()
    .where(
        state_log.c.entity == sa.bindparam("in_entity"),
        state_log.c.record_id == sa.bindparam("in_record"),
        state_log.c.workflow == sa.bindparam("in_workflow"),
        state_log.c.left_at.is_(None),
    )
    .values(
        left_at=sa.bindparam("now", type_=sa.DateTime()),
        seconds=_SecondsSince(state_log.c.entered_at, sa.bindparam("now", type_=sa.DateTime())),
    )
)
_FORGET_APPROVALS = Prepared(
    approval.delete().where(
        approval.c.entity == sa.bindparam("entity"),
        approval.c.record_id == sa.bindparam("record_id"),
        approval.c.workflow == sa.bindparam("workflow"),
    )
)


def _leave(conn, stays, now: dt.datetime) -> None:
    for stay_id, entered_at in stays:
        _LEAVE.run(
            conn, {"stay_id": stay_id, "now": now, "secs": (now - entered_at).total_seconds()}
        )


def move(conn, wf, record_id: int, firing, actor, now: dt.datetime) -> None:
    """A transition: close the current stay, open the next, forget the approvals."""
    which = {"entity": wf.entity.name, "record_id": record_id, "workflow": wf.name}
    if conn.dialect.name == "sqlite":
        _leave(conn, _OPEN_STAYS.rows(conn, which), now)
    else:
        _CLOSE_STAY.run(
            conn,
            {
                "in_entity": wf.entity.name,
                "in_record": record_id,
                "in_workflow": wf.name,
                "now": now,
            },
        )
    enter(conn, wf, record_id, firing.to_state, firing.transition, actor, now)
    _FORGET_APPROVALS.run(conn, which)


def close(conn, entity: str, record_id: int, now: dt.datetime) -> None:
    """A deleted record leaves every state it was in."""
    where = (
        (state_log.c.entity == entity)
        & (state_log.c.record_id == record_id)
        & state_log.c.left_at.is_(None)
    )
    stays = conn.execute(sa.select(state_log.c.id, state_log.c.entered_at).where(where)).all()
    _leave(conn, stays, now)


def current_stay(conn, entity: str, record_id: int, workflow: str) -> Any:
    return conn.execute(
        sa.select(state_log)
        .where(
            state_log.c.entity == entity,
            state_log.c.record_id == record_id,
            state_log.c.workflow == workflow,
            state_log.c.left_at.is_(None),
        )
        .order_by(state_log.c.id.desc())
        .limit(1)
    ).first()


def mark_fired(conn, stay_id: int, fired: list[str]) -> None:
    conn.execute(
        state_log.update().where(state_log.c.id == stay_id).values(timers_fired=json.dumps(fired))
    )


def history(conn, entity: str, record_id: int) -> list[dict[str, Any]]:
    """Every stay, oldest first, with the time spent (an open stay counts until now)."""
    from ...metadata.store import utcnow

    now = utcnow()
    rows = conn.execute(
        sa.select(state_log)
        .where(state_log.c.entity == entity, state_log.c.record_id == record_id)
        .order_by(state_log.c.id)
    ).all()
    return [
        {
            "workflow": r.workflow,
            "state": r.state,
            "enteredAt": r.entered_at.isoformat() + "Z",
            "leftAt": r.left_at.isoformat() + "Z" if r.left_at else None,
            "seconds": r.seconds if r.seconds is not None else (now - r.entered_at).total_seconds(),
            "transition": r.transition,
            "timersFired": json.loads(r.timers_fired),
        }
        for r in rows
    ]
