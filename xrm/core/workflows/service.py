"""``platform.workflows``: transitions, approvals, form state, documents and timers.

A transition is its own write through the record service: the engine checks and computes it
(:func:`xrm.workflow.fire`), the plugins' ``xrm_before_transition`` hooks may veto it, the
record service stores it with a compare-and-swap on the row version (two clients firing at once:
one wins, the other gets :class:`TransitionConflict`, 409), then the effects run or are queued,
transition automations run, and ``xrm_after_transition`` hooks are called; all in the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ...metadata.statements import Prepared
from ...metadata.store import utcnow
from ...workflow import (
    SYSTEM as ENGINE_SYSTEM,
)
from ...workflow import (
    Approval,
    TransitionInput,
    approve,
    available_transitions,
    due_timers,
    fire,
    fire_timer,
)
from ...workflow.errors import TransitionRefused, UnknownTransition
from ...workflow.rules import form_state
from ..context import SYSTEM, Actor
from ..records import reading
from ..records.errors import (
    RecordConflict,
    RecordError,
    RecordInvalid,
    RecordNotFound,
    RecordVersionMismatch,
)
from ..records.events import RecordEvent
from ..security.access import Access
from . import documents, statelog
from .automations import Automations
from .catalog import CatalogCache
from .effects import carry_out, trusted
from .tables import approval as approval_t
from .tables import automation_run, state_log
from .writestep import RecordRules, StateMove, WorkflowWrite

_APPROVAL_COLUMNS = (
    approval_t.c.transition,
    approval_t.c.step,
    approval_t.c.user_id,
    approval_t.c.snapshot,
    approval_t.c.at,
)
#: The approvals of a record (``[0]``) and of a record in one workflow (``[1]``), built once.
_APPROVALS = (
    Prepared(
        sa.select(*_APPROVAL_COLUMNS)
        .where(
            approval_t.c.entity == sa.bindparam("entity"),
            approval_t.c.record_id == sa.bindparam("record_id"),
        )
        .order_by(approval_t.c.id)
    ),
    Prepared(
        sa.select(*_APPROVAL_COLUMNS)
        .where(
            approval_t.c.entity == sa.bindparam("entity"),
            approval_t.c.record_id == sa.bindparam("record_id"),
            approval_t.c.workflow == sa.bindparam("workflow"),
        )
        .order_by(approval_t.c.id)
    ),
)


class TransitionConflict(RecordConflict):
    title = "Transition conflict"


class NoWorkflow(RecordNotFound):
    title = "No workflow"


class StateWriteRefused(RecordError):
    """A client's write of a state field whose transition was refused: the refusal as a
    record error (its status, one problem per reason and field), so a PATCH, a bulk write or
    an import reports it as any other refused record."""

    title = "Transition refused"

    def __init__(self, refused: TransitionRefused, state_field: str):
        self.status = refused.status
        problems = [
            {"pointer": f"/{f}", "field": f, "message": r.message, "code": r.code}
            for r in refused.reasons
            for f in (r.fields or (state_field,))
        ]
        super().__init__(str(refused), problems)


class WorkflowService:
    def __init__(
        self,
        registry,
        records,
        plugins: Any = None,
        action_types: Mapping | None = None,
        hooks: Any = None,
    ):
        self.registry = registry
        self.records = records
        self.plugins = plugins
        #: Calls hooks of the active plugins (``ActiveHooks``); default: every loaded plugin.
        self.hooks = hooks if hooks is not None else getattr(plugins, "hook", None)
        #: Plugin action types: name -> {"params": ..., "required": ..., "run": ...}.
        self.action_types = dict(action_types or {})
        self.catalogs = CatalogCache()
        self.step = RecordRules(self)
        self.automations = Automations(self)
        records.rules = self.step
        records.workflows = self
        # Entity changes that would break a stored workflow or rule set are refused.
        if hasattr(registry, "plan_checks"):
            registry.plan_checks.append(self._check_entity_plan)
            registry.apply_hooks.append(self._follow_renames)

    def _check_entity_plan(self, conn, current, plan) -> list:
        from .dependants import planned_documents

        problems, followed = planned_documents(
            conn, current.definitions, plan, self.catalogs.compiled
        )
        plan.followed_documents = followed  # type: ignore[attr-defined]
        plan.followed = [{"kind": k, "name": n} for k, n, _doc in followed]
        return problems

    def _follow_renames(self, conn, change) -> None:
        from .dependants import save_followed

        save_followed(conn, getattr(change.plan, "followed_documents", None) or [], change.actor)

    # -- documents --------------------------------------------------------------------------------

    def checker(self, conn) -> documents.Checker:
        from ..security.permissions import role_t

        roles = frozenset(conn.execute(sa.select(role_t.c.name)).scalars())
        schemas = {}
        for name, t in self.action_types.items():
            params = t.get("params")
            schemas[name] = (
                {
                    "type": "object",
                    "properties": dict(params),
                    "required": list(t.get("required") or ()),
                }
                if params is not None
                else None
            )
        return documents.Checker(self.registry.snapshot(conn), roles, schemas)

    def verify(self, conn, kind: str, doc: Any) -> dict[str, list]:
        found = documents.findings_of(kind, doc, self.checker(conn))
        return {
            "errors": [documents.finding_dict(f) for f in found if f.is_error],
            "warnings": [documents.finding_dict(f) for f in found if not f.is_error],
        }

    def save(
        self,
        conn,
        kind: str,
        doc: Any,
        *,
        source: str = "admin",
        actor: str | None = None,
        mapping: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> documents.SavePlan:
        plan = documents.save(
            conn,
            kind,
            doc,
            self.checker(conn),
            source=source,
            actor=actor,
            mapping=mapping,
            dry_run=dry_run,
        )
        if plan.saved and kind == "rules" and doc.get("rollups"):
            from .rollups import recompute_all

            snap = self.registry.snapshot(conn)
            recompute_all(conn, snap, self.catalogs.current(conn, snap), doc["entity"])
        return plan

    def catalog(self, conn):
        return self.catalogs.current(conn, self.registry.snapshot(conn))

    # -- transitions ------------------------------------------------------------------------------

    def _load(self, conn, actor: Actor, entity: str, record_id: int, access: Access | None):
        access, snap, ce, _row, record, wfs = self._load_row(conn, actor, entity, record_id, access)
        return access, snap, ce, record, wfs

    def _load_row(self, conn, actor: Actor, entity: str, record_id: int, access: Access | None):
        """As :meth:`_load`, with the stored row (read in the actor's scope) too."""
        access = access or self.records.access(conn, actor)
        access.require(entity, "read")
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        row = reading.fetch_row(conn, ce, record_id, access)  # live and in scope
        if row is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        # Guards see every field, whatever the user may read.
        record = reading.record_of(conn, snap, ce, row, None if access.hidden(entity) else access)
        wfs = self.catalogs.current(conn, snap).workflows_of(entity)
        if not wfs:
            raise NoWorkflow(f"{entity} has no workflow")
        return access, snap, ce, row, record, wfs

    def approvals_of(
        self, conn, entity: str, record_id: int, workflow: str | None = None
    ) -> list[Approval]:
        params = {"entity": entity, "record_id": record_id}
        if workflow:
            params["workflow"] = workflow
        return [
            Approval(transition, step, user_id, json.loads(snapshot), at.replace(tzinfo=dt.UTC))
            for transition, step, user_id, snapshot, at in _APPROVALS[bool(workflow)].rows(
                conn, params
            )
        ]

    def transitions(
        self, conn, actor: Actor, entity: str, record_id: int, *, access: Access | None = None
    ) -> dict:
        """The record's workflows, each with its state and the transitions leaving that state,
        each available or not with the reasons. The first workflow (by name) is also given at
        the top level; ``workflows`` lists every workflow of the entity (one per state field)."""
        _access, _snap, _ce, record, wfs = self._load(conn, actor, entity, record_id, access)
        blocks = [
            self._transitions_of(
                wf, record, actor, self.approvals_of(conn, entity, record_id, wf.name)
            )
            for wf in wfs
        ]
        return {**blocks[0], "workflows": blocks}

    def _transitions_of(self, wf, record: dict, actor: Actor, approvals) -> dict:
        state = record.get(wf.state_field)
        options = available_transitions(
            wf, record, actor, record.get("owner_id"), approvals=approvals
        )
        leaving = {t.name for t in wf.transitions if t.spec.leaves(state)}
        spec = wf.definition.state(state)
        return {
            "workflow": wf.name,
            "label": getattr(wf.definition, "label", None) or wf.name,
            "stateField": wf.state_field,
            "state": state,
            "stateLabel": spec.label if spec else state,
            "states": [
                {
                    "name": s.name,
                    "label": s.label,
                    "color": s.colour,
                    "final": s.final,
                    "initial": s.initial,
                }
                for s in wf.definition.states
            ],
            "transitions": [
                {
                    "name": o.name,
                    "label": o.label,
                    "to": o.to,
                    "available": o.available,
                    "reasons": [r.as_dict() for r in o.reasons],
                    "requires": {"fields": list(o.required_fields), "comment": o.require_comment},
                    "fields": list(o.fields),
                    "approvals": self._steps(wf, o.name, state),
                }
                for o in options
                if o.name in leaving
            ],
        }

    @staticmethod
    def _steps(wf, name: str, state: str) -> list[dict]:
        t = wf.transition(name, state)
        return (
            [
                {"name": a.step.name, "label": a.step.label, "roles": list(a.step.roles)}
                for a in t.approvals
            ]
            if t
            else []
        )

    def _workflow_with(self, wfs, name: str, state_of, workflow: str | None = None):
        if workflow is not None:
            wfs = tuple(w for w in wfs if w.name == workflow)
            if not wfs:
                raise NoWorkflow(f"workflow {workflow!r} does not drive this entity")
        for wf in wfs:
            if wf.transition(name, state_of(wf)) is not None:
                return wf
        for wf in wfs:
            if wf.transition(name) is not None:
                return wf
        raise UnknownTransition(wfs[0].name, name)

    def fire(
        self,
        conn,
        actor: Actor,
        entity: str,
        record_id: int,
        transition: str,
        *,
        comment: str | None = None,
        values: Mapping[str, Any] | None = None,
        if_match: int | None = None,
        access: Access | None = None,
        workflow: str | None = None,
        lenient: bool = False,
    ) -> dict:
        """Take ``transition`` on the record; returns the stored record (as ``actor`` sees it).
        ``workflow`` names the workflow when the entity has several and more than one of them
        has a transition of that name leaving the record's state (default: the first, by
        name, whose transition leaves the record's current state). ``lenient``: ``values``
        are coerced as an import's cells are (the record service's ``lenient``)."""
        access, _snap, ce, row, record, wfs = self._load_row(conn, actor, entity, record_id, access)
        version = record["row_version"]
        if if_match is not None and if_match != version:
            raise RecordVersionMismatch(
                f"{entity} {record_id} was changed by someone else (version {version}, you had {if_match})"
            )
        values = dict(values or {})
        wf = self._workflow_with(wfs, transition, lambda w: record.get(w.state_field), workflow)
        # Only the approvals of the transition taken count: without approval steps, none are
        # read (the state change still deletes those given for the record's other ones).
        t = wf.transition(transition, record.get(wf.state_field)) or wf.transition(transition)
        needs_approvals = t is not None and bool(t.approvals)
        firing = fire(
            wf,
            transition,
            record,
            actor,
            record.get("owner_id"),
            TransitionInput(comment, values),
            self.approvals_of(conn, entity, record_id, wf.name) if needs_approvals else (),
        )
        # The row as a whole record, for the audit's comparison (a copy: hooks see ``record``).
        # With many-to-many fields ``record`` holds the links in the reader's scope only.
        whole = None if ce.associations else dict(record)
        return self._apply(
            conn,
            actor,
            access,
            ce,
            wf,
            record,
            firing,
            values,
            user_values=values,
            row=row,
            stored_record=whole,
            lenient=lenient,
        )

    def fire_for_write(
        self,
        conn,
        actor: Actor,
        entity: str,
        record_id: int,
        move: StateMove,
        data: Mapping[str, Any],
        *,
        if_match: int | None,
        access: Access,
        lenient: bool,
    ) -> dict:
        """A client's write ``data`` that sets a state field (``move``, found by
        :meth:`RecordRules.state_move`): the transition it stands for is fired with the other
        written fields as its input; a refusal is a :class:`StateWriteRefused`."""
        try:
            return self.fire(
                conn,
                actor,
                entity,
                record_id,
                move.transition,
                values={k: v for k, v in data.items() if k != move.state_field},
                if_match=if_match,
                access=access,
                workflow=move.workflow,
                lenient=lenient,
            )
        except TransitionRefused as exc:
            raise StateWriteRefused(exc, move.state_field) from None

    def _apply(
        self,
        conn,
        actor,
        access,
        ce,
        wf,
        record,
        firing,
        values,
        user_values,
        row=None,
        stored_record=None,
        lenient=False,
    ) -> dict:
        entity, record_id = ce.name, record["id"]
        event = RecordEvent(
            entity,
            "transition",
            actor,
            conn,
            self.records,
            record_id=record_id,
            values=dict(firing.values),
            before=record,
        )
        event.transition, event.comment = firing.transition, firing.comment
        self._hook("xrm_before_transition", event)
        trusted_values = {k: v for k, v in firing.values.items() if k not in user_values}
        try:
            visible = self.records.update(
                conn,
                actor,
                entity,
                record_id,
                user_values,
                record["row_version"],
                access=access,
                workflow=WorkflowWrite(wf.name, firing, trusted_values),
                stored_row=row,
                stored_record=stored_record,
                lenient=lenient,
            )
        except RecordVersionMismatch:
            now = self.records.stored(conn, ce, record_id) or {}
            raise TransitionConflict(
                f"{entity} {record_id} changed while {firing.transition!r} was being fired "
                f"(it is now {now.get(wf.state_field)!r}); nothing was changed: reload and try again",
                [{"code": "conflict", "message": "the record was changed by someone else"}],
            ) from None
        hidden = access.hidden(entity)
        after = self.records.stored(conn, ce, record_id) if hidden else visible
        carry_out(
            conn,
            self.records,
            firing.effects,
            entity=entity,
            record_id=record_id,
            key=f"wf:{entity}:{record_id}:{after['row_version']}:{firing.transition}",
            actor=actor,
            source={"workflow": wf.name, "transition": firing.transition},
            record=after,
        )
        event.after = after
        self._hook("xrm_after_transition", event)
        # Only a created record (through its roll-ups or automations) or an automation on the
        # transition can have written to the record since; the other effects are queued.
        writing = any(e.type == "createRecord" for e in firing.effects)
        if not writing and not self._transition_automations(conn, entity):
            return visible  # nothing else wrote to the record
        return self.records._visible(access, ce, self.records.stored(conn, ce, record_id))

    def _transition_automations(self, conn, entity: str) -> bool:
        cat = self.catalogs.current(conn, self.registry.snapshot(conn))
        return any(x.automations_on("transition") for x in cat.extras_of(entity))

    def _hook(self, name: str, event) -> None:
        if self.hooks is not None:
            getattr(self.hooks, name)(event=event)

    # -- approvals ----------------------------------------------------------------------------------

    def approve(
        self,
        conn,
        actor: Actor,
        entity: str,
        record_id: int,
        transition: str,
        step: str,
        comment: str | None = None,
        *,
        access: Access | None = None,
        workflow: str | None = None,
    ) -> dict:
        _access, _snap, _ce, record, wfs = self._load(conn, actor, entity, record_id, access)
        wf = self._workflow_with(wfs, transition, lambda w: record.get(w.state_field), workflow)
        given = approve(
            wf,
            transition,
            step,
            record,
            actor,
            record.get("owner_id"),
            self.approvals_of(conn, entity, record_id, wf.name),
        )
        mine = (
            (approval_t.c.entity == entity)
            & (approval_t.c.record_id == record_id)
            & (approval_t.c.workflow == wf.name)
            & (approval_t.c.transition == given.transition)
            & (approval_t.c.step == step)
            & (approval_t.c.user_id == actor.user_id)
        )
        conn.execute(approval_t.delete().where(mine))  # approving again refreshes the snapshot
        conn.execute(
            approval_t.insert().values(
                entity=entity,
                record_id=record_id,
                workflow=wf.name,
                transition=given.transition,
                step=step,
                user_id=actor.user_id,
                username=actor.username,
                snapshot=json.dumps(dict(given.snapshot), default=str),
                comment=comment,
                at=utcnow(),
            )
        )
        from ..records import audit

        audit.write(
            conn,
            actor,
            entity,
            record_id,
            "approve",
            {
                "$approval": {
                    "workflow": wf.name,
                    "transition": given.transition,
                    "step": step,
                    "comment": comment,
                }
            },
        )
        return {"items": self.approval_list(conn, actor, entity, record_id, access=_access)}

    def approval_list(self, conn, actor, entity, record_id, *, access=None) -> list[dict]:
        self.records.get(conn, actor, entity, record_id, access=access)
        rows = conn.execute(
            sa.select(approval_t)
            .where(approval_t.c.entity == entity, approval_t.c.record_id == record_id)
            .order_by(approval_t.c.id)
        )
        return [
            {
                "id": r.id,
                "workflow": r.workflow,
                "transition": r.transition,
                "step": r.step,
                "user": {"id": r.user_id, "username": r.username},
                "comment": r.comment,
                "snapshot": json.loads(r.snapshot),
                "at": r.at.isoformat() + "Z",
            }
            for r in rows
        ]

    def state_history(self, conn, actor, entity, record_id, *, access=None) -> list[dict]:
        self.records.get(conn, actor, entity, record_id, access=access)
        return statelog.history(conn, entity, record_id)

    def automation_runs(self, conn, actor, entity, record_id, *, access=None) -> list[dict]:
        self.records.get(conn, actor, entity, record_id, access=access)
        t = automation_run
        rows = conn.execute(
            sa.select(t).where(t.c.entity == entity, t.c.record_id == record_id).order_by(t.c.id)
        )
        return [
            {
                "id": r.id,
                "rules": r.rules,
                "automation": r.automation,
                "trigger": r.trigger,
                "mode": r.mode,
                "status": r.status,
                "steps": json.loads(r.steps),
                "error": r.error,
                "startedAt": r.started_at.isoformat() + "Z",
            }
            for r in rows
        ]

    # -- forms --------------------------------------------------------------------------------------

    def form_state(
        self,
        conn,
        actor: Actor,
        entity: str,
        values: Mapping[str, Any],
        record_id: int | None = None,
        *,
        access: Access | None = None,
    ) -> dict:
        access = access or self.records.access(conn, actor)
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        if record_id is not None:
            self.records.get(conn, actor, entity, record_id, access=access)
            base = self.records.stored(conn, ce, record_id)
        else:
            access.require(entity, "create")
            base = {}
        cat = self.catalogs.current(conn, snap)
        wfs, rule_sets = cat.workflows_of(entity), cat.rules_of(entity)
        coerced, problems = ce.validate(values, partial=True, lenient=True)
        record = {**base, **coerced}
        if record_id is None:
            for wf in wfs:
                record[wf.state_field] = wf.definition.initial_state.name
        hidden, required, read_only = (
            set(access.hidden(entity)),
            set(),
            set(access.readonly(entity)),
        )
        read_only |= set(cat.engine_written(entity))  # computed fields and roll-ups
        states = wfs or [None]
        for wf in states:
            for rs in rule_sets or [None]:
                if wf is None and rs is None:
                    required |= {f.name for f in ce.definition.fields if f.required}
                    read_only |= {f.name for f in ce.definition.fields if f.readonly}
                    continue
                fs = form_state(rs, record, workflow=wf, user_id=actor.user_id, roles=actor.roles)
                hidden |= fs.hidden
                required |= fs.required
                read_only |= fs.read_only
        return {
            "hidden": sorted(hidden),
            "required": sorted(required),
            "readonly": sorted(read_only),
            "errors": [p.as_dict() for p in problems],
        }

    # -- timers -------------------------------------------------------------------------------------

    def fire_due_timers(self, conn, now: dt.datetime) -> int:
        """Fire every workflow timer that is due at ``now``; returns how many fired. Each timer
        runs in a savepoint: one that fails is logged (and not retried during this stay) without
        stopping the others."""
        now_utc = now.astimezone(dt.UTC) if now.tzinfo else now.replace(tzinfo=dt.UTC)
        snap = self.registry.snapshot(conn)
        cat = self.catalogs.current(conn, snap)
        fired = 0
        for wf in cat.workflows.values():
            states = sorted({t.state for t in wf.timers})
            if not states:
                continue
            ce = snap.entities.get(wf.entity.name)
            stays = conn.execute(
                sa.select(state_log).where(
                    state_log.c.workflow == wf.name,
                    state_log.c.left_at.is_(None),
                    state_log.c.state.in_(states),
                )
            ).all()
            for stay in stays:
                record = self.records.stored(conn, ce, stay.record_id)
                if record is None or ce.table is None:
                    continue
                done = json.loads(stay.timers_fired)
                entered = stay.entered_at.replace(tzinfo=dt.UTC)
                for due in due_timers(wf, record, entered, now_utc, done):
                    done.append(due.name)
                    statelog.mark_fired(conn, stay.id, done)
                    fired += self._fire_timer(conn, ce, wf, due, record, now_utc)
                    record = self.records.stored(conn, ce, stay.record_id)
                    if record is None or record.get(wf.state_field) != stay.state:
                        break
        return fired

    def _fire_timer(self, conn, ce, wf, due, record, now) -> int:
        started = utcnow()
        nested = conn.begin_nested()
        try:
            firing = fire_timer(wf, due, record, record.get("owner_id"), now=now)
            if firing is not None:
                is_move = firing.to_state != firing.from_state
                access = Access(actor=SYSTEM)
                if is_move:
                    self._apply(conn, SYSTEM, access, ce, wf, record, firing, {}, user_values={})
                else:
                    if firing.values:
                        self.records.update(
                            conn,
                            SYSTEM,
                            ce.name,
                            record["id"],
                            {},
                            access=access,
                            workflow=WorkflowWrite(
                                values=dict(firing.values), automation=f"timer:{due.name}"
                            ),
                        )
                    carry_out(
                        conn,
                        self.records,
                        firing.effects,
                        entity=ce.name,
                        record_id=record["id"],
                        key=f"timer:{wf.name}:{record['id']}:{due.name}:{due.due.isoformat()}",
                        actor=SYSTEM,
                        source={"workflow": wf.name, "timer": due.name},
                        record=record,
                    )
            nested.commit()
            status, error = ("done" if firing is not None else "skipped"), None
        except (TransitionRefused, RecordInvalid, RecordConflict) as exc:
            nested.rollback()
            status, error = "failed", str(exc)
        conn.execute(
            automation_run.insert().values(
                rules=wf.name,
                automation=f"timer:{due.name}",
                entity=ce.name,
                record_id=record["id"],
                trigger="timer",
                mode="sync",
                status=status,
                steps="[]",
                error=error,
                started_at=started,
                finished_at=utcnow(),
            )
        )
        return 1 if status == "done" else 0


__all__ = ["ENGINE_SYSTEM", "NoWorkflow", "TransitionConflict", "WorkflowService", "trusted"]
