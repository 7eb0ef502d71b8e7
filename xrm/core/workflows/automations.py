"""Automations: actions run when records are created, updated, deleted or transitioned, on a
schedule (cron) or relative to a date field; and the workflow timers.

Sync automations run inside the write's transaction, after the record is stored (a failure
refuses the whole write); async ones are queued to the outbox (topic ``automation.run``) in the
same transaction and run by :func:`run_automation` after commit. An automation's own
``setFields`` write does not set it off again; other loops stop at the depth limit
(:data:`.effects.MAX_DEPTH`). Every run is logged with its steps (``xrm_wf_automation_run``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from ...metadata.store import utcnow
from ...workflow.actions import run_actions
from ...workflow.errors import TransitionRefused
from ...workflow.expressions import Activation, ExpressionError
from ...workflow.expressions.values import ResultError
from ...workflow.timers import parse_duration
from ..context import SYSTEM, Actor
from ..records import outbox
from ..records.errors import RecordError, RecordInvalid
from ..security.access import Access
from .effects import Depth, carry_out, trusted
from .extras import CompiledAutomation
from .tables import automation_run, document, schedule_mark


def _changed(before: dict | None, after: dict | None, fields) -> bool:
    if not fields:
        return True
    return any((before or {}).get(f) != (after or {}).get(f) for f in fields)


class Automations:
    def __init__(self, service: Any):
        self.service = service

    # -- record events --------------------------------------------------------------------------

    def on_record(
        self, conn, snap, cat, ce, actor, action, record_id, before, after, write
    ) -> bool:
        """Run or queue the automations this write sets off; True when a sync one ran (the
        record may have changed again)."""
        ran = False
        firing = write.firing if write is not None else None
        for x in cat.extras_of(ce.name):
            for a in x.automations:
                if write is not None and write.automation == f"{x.rules}:{a.name}":
                    continue  # its own write
                if not self._applies(a, action, before, after, firing):
                    continue
                record = after if after is not None else before
                trigger = "transition" if a.on == "transition" else action
                if a.mode == "async":
                    self.enqueue(conn, a, ce.name, record, actor, trigger)
                else:
                    self.run(conn, snap, a, ce, record, actor, trigger)
                    ran = True
        return ran

    @staticmethod
    def _applies(a: CompiledAutomation, action, before, after, firing) -> bool:
        if a.on == "transition":
            return firing is not None and a.transition in (None, firing.transition)
        if a.on != action:
            return False
        return action != "update" or _changed(before, after, a.fields)

    def enqueue(
        self, conn, a: CompiledAutomation, entity: str, record: dict, actor: Actor, trigger: str
    ) -> None:
        rid = record.get("id")
        key = f"auto:{a.rules}:{a.name}:{entity}:{rid}:{trigger}:{record.get('row_version')}:{utcnow().timestamp()}"
        payload = {
            "rules": a.rules,
            "automation": a.name,
            "entity": entity,
            "id": rid,
            "trigger": trigger,
            "record": record,
            "actor": {"id": actor.user_id, "username": actor.username, "roles": list(actor.roles)},
        }
        outbox.enqueue(conn, "automation.run", key, payload, entity, rid)

    # -- running ----------------------------------------------------------------------------------

    def run(
        self, conn, snap, a: CompiledAutomation, ce, record: dict, actor: Actor, trigger: str
    ) -> dict:
        """Run one automation for one record now; returns the run log entry."""
        started = utcnow()
        rid = record.get("id")
        steps: list[dict] = []
        status = "done"
        with Depth(conn, f"automation {a.name!r} on {ce.name} {rid}"):
            try:
                activation = Activation.for_record(
                    ce.definition, record, user_id=actor.user_id, roles=tuple(actor.roles)
                )
                if a.when is not None and a.when.evaluate(activation) is not True:
                    status = "skipped"
                else:
                    values, effects = run_actions(a.actions, activation, ce.definition, record)
            except (ExpressionError, ResultError) as exc:
                raise RecordInvalid(
                    f"automation {a.name!r} of {a.rules} failed on {ce.name} {rid}: {exc}"
                ) from None
            if status == "done":
                if values and trigger != "delete":
                    from .writestep import WorkflowWrite

                    self.service.records.update(
                        conn,
                        trusted(actor),
                        ce.name,
                        rid,
                        {},
                        access=Access(actor=trusted(actor)),
                        workflow=WorkflowWrite(values=values, automation=f"{a.rules}:{a.name}"),
                    )
                    steps.append({"type": "setFields", "values": values})
                steps += carry_out(
                    conn,
                    self.service.records,
                    effects,
                    entity=ce.name,
                    record_id=rid,
                    key=f"auto:{a.rules}:{a.name}:{rid}:{started.timestamp()}",
                    actor=actor,
                    source={"automation": a.name, "rules": a.rules, "trigger": trigger},
                    record=record,
                )
        entry = dict(
            rules=a.rules,
            automation=a.name,
            entity=ce.name,
            record_id=rid,
            trigger=trigger,
            mode=a.mode,
            status=status,
            steps=json.dumps(steps, default=str),
            started_at=started,
            finished_at=utcnow(),
        )
        conn.execute(automation_run.insert().values(**entry))
        return {**entry, "steps": steps}

    def find(self, cat, rules: str, name: str) -> CompiledAutomation | None:
        x = cat.extras.get(rules)
        return next((a for a in x.automations if a.name == name), None) if x else None

    # -- scheduled ------------------------------------------------------------------------------

    def run_schedules(self, conn, now: dt.datetime) -> int:
        """Cron automations due since their last run (once per due minute) and date-relative
        automations whose date (plus offset) has come; returns how many runs were made."""
        now = (
            now.replace(tzinfo=None)
            if now.tzinfo is None
            else now.astimezone(dt.UTC).replace(tzinfo=None)
        )
        snap = self.service.registry.snapshot(conn)
        cat = self.service.catalogs.current(conn, snap)
        n = 0
        for x in cat.extras.values():
            ce = snap.entities.get(x.entity)
            if ce is None:
                continue
            saved = conn.execute(
                sa.select(document.c.updated_at).where(
                    document.c.kind == "rules", document.c.name == x.rules
                )
            ).scalar()
            for a in x.automations:
                if a.on == "schedule":
                    n += self._cron(conn, snap, ce, a, now)
                elif a.on == "date":
                    n += self._dated(conn, snap, ce, a, now, saved)
        return n

    def _mark(self, conn, key: str, now) -> bool:
        if conn.execute(sa.select(schedule_mark.c.key).where(schedule_mark.c.key == key)).first():
            return False
        conn.execute(schedule_mark.insert().values(key=key[:200], at=now))
        return True

    def _cron(self, conn, snap, ce, a, now) -> int:
        due = a.cron.due_between(now - dt.timedelta(days=1), now)
        if due is None or not self._mark(conn, f"cron:{a.rules}:{a.name}:{due.isoformat()}", now):
            return 0
        n = 0
        t = ce.table
        for row in (
            conn.execute(sa.select(t).where(t.c.deleted_at.is_(None)).order_by(t.c.id))
            .mappings()
            .all()
        ):
            self.run(conn, snap, a, ce, ce.dump(row), SYSTEM, "schedule")
            n += 1
        return n

    def _dated(self, conn, snap, ce, a, now, saved) -> int:
        t = ce.table
        col = t.c[ce.fields[a.field].columns[0]]
        shift = parse_duration(a.offset) if a.offset else None
        # due = value + offset <= now  <=>  value <= now - offset
        if shift is not None:
            from dataclasses import replace

            threshold = replace(shift, negative=not shift.negative).add_to(now)
        else:
            threshold = now
        if ce.fields[a.field].spec.type == "date":
            threshold = threshold.date()
        n = 0
        rows = (
            conn.execute(
                sa.select(t)
                .where(t.c.deleted_at.is_(None), col.is_not(None), col <= threshold)
                .order_by(t.c.id)
            )
            .mappings()
            .all()
        )
        for row in rows:
            record = ce.dump(row)
            value = record.get(a.field)
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "")) if value else None
            if moment is not None and shift is not None:
                moment = shift.add_to(moment)
            if saved is not None and moment is not None and moment < saved:
                continue  # due before this version of the rule set existed
            if not self._mark(conn, f"date:{a.rules}:{a.name}:{record['id']}:{value}", now):
                continue
            self.run(conn, snap, a, ce, record, SYSTEM, "date")
            n += 1
        return n


def run_automation(conn, platform: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The handler of outbox topic ``automation.run`` (an async automation), after commit.
    The record is read again: it runs on the record as it is now (a deleted record: as queued)."""
    service = platform.workflows
    snap = service.registry.snapshot(conn)
    cat = service.catalogs.current(conn, snap)
    a = service.automations.find(cat, payload["rules"], payload["automation"])
    if a is None:
        return {
            "status": "gone",
            "detail": f"automation {payload['automation']!r} no longer exists",
        }
    ce = snap.entity(payload["entity"])
    record = service.records.stored(conn, ce, payload["id"]) or payload.get("record") or {}
    who = payload.get("actor") or {}
    actor = Actor(
        user_id=who.get("id"),
        username=who.get("username") or "system",
        roles=tuple(who.get("roles") or ()),
    )
    return service.automations.run(
        conn, snap, a, ce, record, actor, payload.get("trigger", "async")
    )


def run_schedules(conn, platform: Any, now: dt.datetime) -> int:
    """Periodic job: cron and date-relative automations."""
    return platform.workflows.automations.run_schedules(conn, now)


def fire_due_timers(conn, platform: Any, now: dt.datetime) -> int:
    """Periodic job: workflow timers that are due (escalations, SLA transitions)."""
    return platform.workflows.fire_due_timers(conn, now)


__all__ = [
    "Automations",
    "RecordError",
    "TransitionRefused",
    "fire_due_timers",
    "run_automation",
    "run_schedules",
]
