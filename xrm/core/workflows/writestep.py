"""The workflow and rules step of the record write path (called by the record service).

Create: the workflow's initial state (a client may give only that state), then the rule sets
(defaults -> computed fields -> validation rules -> form rules), then the initial state's
required fields. Update: the state field changes only by a transition; the current state's
read-only and required fields hold; then the rule sets. After the SQL: the time-in-state log,
approvals cleared on a state change, roll-ups of parents recomputed, automations run (sync) or
queued (async). See ``docs/workflows.md`` (order of execution).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.fieldtypes.base import FieldValueError
from ...metadata.store import utcnow
from ...workflow import Firing, update_problems
from ...workflow.errors import FieldProblem
from ...workflow.rules import apply_rules
from ..records.errors import RecordInvalid
from . import rollups, statelog
from .catalog import Catalog


@dataclass(frozen=True)
class WorkflowWrite:
    """A write made by the workflow engine rather than typed by a user: a transition's values
    (its ``setFields`` results and the new state) or an automation's ``setFields``. These
    values skip the field checks a client's values get (read-only fields may be set) but not
    the rules."""

    workflow: str | None = None
    firing: Firing | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    automation: str | None = None

    def audit_note(self) -> dict[str, Any] | None:
        if self.firing is not None:
            f = self.firing
            return {
                "workflow": self.workflow,
                "name": f.transition,
                "from": f.from_state,
                "to": f.to_state,
                "comment": f.comment,
            }
        if self.automation is not None:
            return {"automation": self.automation}
        return None


@dataclass(frozen=True)
class StateMove:
    """A write of a state field that stands for a transition (:meth:`RecordRules.state_move`)."""

    workflow: str
    state_field: str
    transition: str


def _problems(entity: str, problems: list[FieldProblem]) -> RecordInvalid:
    return RecordInvalid(
        f"{entity}: {len(problems)} invalid field(s)",
        [
            {
                "pointer": f"/{p.field}" if p.field else "",
                "field": p.field,
                "message": p.message,
                **({"rule": p.rule} if p.rule else {}),
            }
            for p in problems
        ],
    )


def coerce_into(
    ce: CompiledEntity, values: dict, json_values: Mapping[str, Any], problems: list
) -> None:
    """Put engine results (JSON values) into ``values`` as the record service holds them."""
    for name, raw in json_values.items():
        cf = ce.fields.get(name)
        if cf is None:
            continue
        try:
            values[name] = None if raw is None else cf.type.coerce(cf.spec, raw, False)
        except FieldValueError as exc:
            problems.append(FieldProblem(name, f"{cf.spec.label} {exc}"))


class RecordRules:
    """Bound to a workflow service (for the catalog, the effects and the automations)."""

    def __init__(self, service: Any):
        self.service = service

    def catalog(self, conn: sa.Connection, snap: MetadataSnapshot) -> Catalog:
        return self.service.catalogs.current(conn, snap)

    # -- before the SQL -------------------------------------------------------------------------

    def before_create(
        self,
        conn,
        snap: MetadataSnapshot,
        ce: CompiledEntity,
        actor,
        values: dict,
        given: Iterable[str],
    ) -> None:
        cat = self.catalog(conn, snap)
        wfs, rule_sets = cat.workflows_of(ce.name), cat.rules_of(ce.name)
        given = set(given)
        if cat.engine_written(ce.name):
            _refuse_engine_fields(cat, ce, {f: values.get(f) for f in given}, None)
        if not wfs and not rule_sets:
            return
        problems: list[FieldProblem] = []
        for wf in wfs:
            sf, initial = wf.state_field, wf.definition.initial_state
            if sf in given and values.get(sf) not in (None, initial.name):
                problems.append(
                    FieldProblem(
                        sf,
                        f"a new {wf.entity.label} starts in state {initial.name!r}, not "
                        f"{values.get(sf)!r}; the state then changes only by a transition "
                        f"({_leaving(wf, initial.name)})",
                    )
                )
            coerce_into(ce, values, {sf: initial.name}, problems)
        for rs in rule_sets:
            out = apply_rules(rs, values, creating=True, user_id=actor.user_id, roles=actor.roles)
            coerce_into(ce, values, out.values, problems)
            problems += out.problems
        for wf in wfs:
            initial = wf.definition.initial_state
            for f in initial.required:
                if _empty(values.get(f)):
                    problems.append(
                        FieldProblem(f, f"is required in state {initial.label!r}", initial.name)
                    )
        if problems:
            raise _problems(ce.name, problems)

    def before_update(
        self,
        conn,
        snap,
        ce: CompiledEntity,
        actor,
        before: dict,
        values: dict,
        write: WorkflowWrite | None = None,
    ) -> None:
        cat = self.catalog(conn, snap)
        wfs, rule_sets = cat.workflows_of(ce.name), cat.rules_of(ce.name)
        if values and cat.engine_written(ce.name):
            _refuse_engine_fields(cat, ce, values, before)
        problems: list[FieldProblem] = []
        for wf in wfs:
            if write is not None and write.firing is not None and write.workflow == wf.name:
                continue  # a transition of this workflow: the engine checked it
            for p in update_problems(wf, before, values):
                if p.field == wf.state_field:
                    p = FieldProblem(
                        p.field,
                        f"{wf.entity.field(p.field).label if wf.entity.field(p.field) else p.field} "
                        f"changes only by a transition of workflow {wf.name!r}; from "
                        f"{before.get(wf.state_field)!r}: {_leaving(wf, before.get(wf.state_field))}",
                    )
                problems.append(p)
        if write is not None:
            coerce_into(ce, values, write.values, problems)
        if problems:
            raise _problems(ce.name, problems)
        if not rule_sets:
            return
        merged = {**before, **values}
        for rs in rule_sets:
            out = apply_rules(rs, merged, before=before, user_id=actor.user_id, roles=actor.roles)
            coerce_into(ce, values, out.values, problems)
            merged.update({k: values[k] for k in out.values if k in values})
            problems += out.problems
        if problems:
            raise _problems(ce.name, problems)

    def state_move(
        self, conn, snap, ce: CompiledEntity, before: Mapping[str, Any], data: Mapping[str, Any]
    ) -> StateMove | None:
        """The transition a client's write of a state field stands for: the one transition
        leaving the record's state for the state written. None when no state field changes or
        no transition leads there (the update step then refuses the write, naming the
        transitions that leave the state); a write that changes two state fields at once, or
        that several transitions could stand for, is refused here."""
        cat = self.catalog(conn, snap)
        moves = []
        for wf in cat.workflows_of(ce.name):
            sf = wf.state_field
            if sf not in data or data[sf] == before.get(sf):
                continue
            state, target = before.get(sf), data[sf]
            names = sorted(
                {t.name for t in wf.transitions if t.spec.leaves(state) and t.spec.to == target}
            )
            if len(names) > 1:
                raise _problems(
                    ce.name,
                    [
                        FieldProblem(
                            sf,
                            f"several transitions of workflow {wf.name!r} lead from {state!r} "
                            f"to {target!r} ({', '.join(names)}): fire one of them by name",
                        )
                    ],
                )
            if names:
                moves.append(StateMove(wf.name, sf, names[0]))
        if len(moves) > 1:
            raise _problems(
                ce.name,
                [
                    FieldProblem(m.state_field, "only one state field may change in one write")
                    for m in moves
                ],
            )
        return moves[0] if moves else None

    # -- after the SQL --------------------------------------------------------------------------

    def after_write(
        self,
        conn,
        snap,
        ce: CompiledEntity,
        actor,
        action: str,
        record_id: int,
        before: dict | None,
        after: dict | None,
        write: WorkflowWrite | None = None,
    ) -> bool:
        cat = self.catalog(conn, snap)
        if not cat.touches(ce.name):
            return False
        now = utcnow()
        for wf in cat.workflows_of(ce.name):
            if action == "create":
                statelog.enter(conn, wf, record_id, after.get(wf.state_field), None, actor, now)
            elif write is not None and write.firing is not None and write.workflow == wf.name:
                statelog.move(conn, wf, record_id, write.firing, actor, now)
        rollups.refresh_for(conn, snap, cat, ce.name, before, after, now)
        return self.service.automations.on_record(
            conn, snap, cat, ce, actor, action, record_id, before, after, write
        )

    def after_delete(self, conn, snap, actor, deleted: list[tuple[str, int]]) -> None:
        cat = self.catalog(conn, snap)
        now = utcnow()
        for name, rid in deleted:
            if not cat.touches(name):
                continue
            ce = snap.entity(name)
            row = conn.execute(sa.select(ce.table).where(ce.table.c.id == rid)).mappings().first()
            record = ce.dump(row) if row is not None else {"id": rid}
            statelog.close(conn, name, rid, now)
            rollups.refresh_for(conn, snap, cat, name, record, None, now)
            self.service.automations.on_record(
                conn, snap, cat, ce, actor, "delete", rid, record, None, None
            )

    def after_restore(self, conn, snap, actor, restored: list[tuple[str, int]]) -> None:
        cat = self.catalog(conn, snap)
        now = utcnow()
        for name, rid in restored:
            if cat.rollups_over(name):
                ce = snap.entity(name)
                row = (
                    conn.execute(sa.select(ce.table).where(ce.table.c.id == rid)).mappings().first()
                )
                if row is not None:
                    rollups.refresh_for(conn, snap, cat, name, None, ce.dump(row), now)


def _refuse_engine_fields(
    cat: Catalog, ce: CompiledEntity, values: Mapping[str, Any], before: Mapping[str, Any] | None
) -> None:
    """Computed fields and roll-ups are written by the engine only: a client's value for one
    is refused (422), except an empty value on create and the unchanged value on update (a
    client sending the whole record back)."""
    written = cat.engine_written(ce.name)
    if not written:
        return
    bad = [
        f
        for f, v in values.items()
        if f in written and not (_empty(v) if before is None else v == before.get(f))
    ]
    if bad:
        raise RecordInvalid(
            f"{ce.name}: {', '.join(bad)} cannot be written",
            [
                {
                    "pointer": f"/{f}",
                    "field": f,
                    "message": f"{ce.fields[f].spec.label if f in ce.fields else f} is read-only: "
                    f"it is {written[f]}",
                    "code": "read_only",
                }
                for f in bad
            ],
        )


def _leaving(wf, state: str | None) -> str:
    names = sorted({t.name for t in wf.transitions if t.spec.leaves(state)})
    return "allowed transitions: " + ", ".join(names) if names else "no transition leaves it"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []
