"""Workflow and rule-set documents as versioned rows: verify, plan, save, history.

Saving runs the full verification (errors block, nothing is saved; warnings are returned), and
for a workflow the state plan: records whose state the new version no longer has need a mapping
(``renamedFrom`` covers renames), the plan says how many records move, and they move in the same
transaction as the new version. Every save bumps the metadata version counter, so every process
swaps in the new compiled version on its next request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata import store as meta_store
from ...metadata.compiler import MetadataSnapshot
from ...metadata.errors import MetadataError
from ...metadata.model import thaw
from ...workflow import WorkflowInvalid, parse_workflow, verify
from ...workflow.errors import Finding, error
from ...workflow.migration import diff_states
from ...workflow.rules import RulesInvalid, rules_findings
from ..context import SYSTEM
from ..records import journal
from .extras import extras_findings
from .tables import approval, document, document_history, state_log

KINDS = {"workflow": "workflow", "rules": "rule set"}


class DocumentNotFound(MetadataError):
    status = 404
    title = "Not found"


class StateMappingNeeded(MetadataError):
    """Records sit in states the new version removes and no valid mapping says where they go."""

    status = 409
    title = "State mapping required"

    def __init__(self, message: str, findings: list[Finding], moves: list[dict]):
        self.findings = findings
        self.moves = moves
        super().__init__(message)


@dataclass
class SavePlan:
    kind: str
    name: str
    entity: str
    source: str
    findings: list[Finding]
    #: [{"from", "to", "count"}] records that move to another state (workflows).
    moves: list[dict] = field(default_factory=list)
    revision: int | None = None
    saved: bool = False
    unchanged: bool = False

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "entity": self.entity,
            "source": self.source,
            "revision": self.revision,
            "saved": self.saved,
            "unchanged": self.unchanged,
            "errors": [finding_dict(f) for f in self.errors],
            "warnings": [finding_dict(f) for f in self.findings if not f.is_error],
            "moves": self.moves,
            "recordsMoved": sum(m["count"] for m in self.moves),
        }


def finding_dict(f: Finding) -> dict[str, str]:
    return {"pointer": f.pointer, "message": f.message, "code": f.severity}


@dataclass(frozen=True)
class Checker:
    """What verification needs from the platform: entities, role names, plugin action types."""

    snapshot: MetadataSnapshot
    roles: frozenset[str] | None
    action_types: Mapping[str, Mapping[str, Any] | None]


def findings_of(kind: str, doc: Any, checker: Checker) -> list[Finding]:
    """Every error and warning of a document (errors first)."""
    if kind not in KINDS:
        raise DocumentNotFound(f"unknown kind {kind!r} (workflow or rules)")
    if not isinstance(doc, Mapping):
        return [error("", f"a {KINDS[kind]} is a JSON object")]
    entities = checker.snapshot.definitions
    name = doc.get("entity")
    entity = entities.get(name) if isinstance(name, str) else None
    if entity is None:
        # The meta-schema still reports every structural problem.
        schema = verify_schema_only(kind, doc)
        return [*schema, error("/entity", f"entity {name!r} does not exist")]
    if kind == "workflow":
        return verify(doc, entity, checker.roles, checker.action_types, entities)
    found, compiled = rules_findings(doc, entity)
    if compiled is not None:
        extra, _extras = extras_findings(doc, entity, entities)
        found += extra
        if checker.action_types is not None:
            found += _plugin_actions(doc, checker.action_types)
    return sorted(found, key=lambda f: not f.is_error)


def _plugin_actions(doc: Mapping[str, Any], known: Mapping[str, Any]) -> list[Finding]:
    """Automations' plugin action types must be registered and their params must fit."""
    from jsonschema import Draft202012Validator

    from ...metadata.validation import pointer
    from ...workflow.actions import ACTION_TYPES

    out = []
    for i, a in enumerate(doc.get("automations") or ()):
        for j, action in enumerate(a.get("actions") or ()):
            kind, ptr = action.get("type"), f"/automations/{i}/actions/{j}"
            if kind in ACTION_TYPES:
                continue
            if kind not in known:
                hint = (
                    f" (registered: {', '.join(sorted(known))})"
                    if known
                    else " (no plugin registers actions)"
                )
                out.append(error(f"{ptr}/type", f"unknown action type {kind!r}{hint}"))
            elif known[kind]:
                for err in Draft202012Validator(known[kind]).iter_errors(
                    action.get("params") or {}
                ):
                    out.append(
                        error(
                            f"{ptr}/params{pointer(*err.absolute_path)}", f"{kind}: {err.message}"
                        )
                    )
    return out


def verify_schema_only(kind: str, doc: Any) -> list[Finding]:
    from ...workflow.metaschema import rules_metaschema_validator, workflow_metaschema_validator
    from ...workflow.schemacheck import schema_findings

    v = workflow_metaschema_validator() if kind == "workflow" else rules_metaschema_validator()
    return schema_findings(v, doc)


def _stored(conn: sa.Connection, kind: str, name: str):
    return conn.execute(
        sa.select(document).where(document.c.kind == kind, document.c.name == name)
    ).first()


def plan_save(
    conn: sa.Connection,
    kind: str,
    doc: Any,
    checker: Checker,
    *,
    source: str = "admin",
    mapping: Mapping[str, str] | None = None,
) -> SavePlan:
    findings = findings_of(kind, doc, checker)
    name = doc.get("name") if isinstance(doc, Mapping) else None
    entity = doc.get("entity") if isinstance(doc, Mapping) else None
    plan = SavePlan(kind, str(name), str(entity), source, findings)
    if plan.errors:
        return plan
    current = _stored(conn, kind, name)
    if current is not None:
        old = json.loads(current.document)
        plan.unchanged = old == thaw(doc) and current.source == source
        if old.get("entity") != entity:
            plan.findings.insert(
                0,
                error(
                    "/entity",
                    f"{KINDS[kind]} {name!r} is for {old.get('entity')}; "
                    "a new entity needs a new name",
                ),
            )
            return plan
    if kind == "workflow":
        clash = _same_state_field(conn, checker.snapshot, name, doc)
        if clash is not None:
            plan.findings.insert(0, clash)
            return plan
        old_doc = json.loads(current.document) if current is not None else None
        plan.moves, problems = _state_moves(conn, checker.snapshot, old_doc, doc, mapping or {})
        plan.findings = problems + plan.findings
    return plan


def _same_state_field(conn, snap, name, doc) -> Finding | None:
    """An entity may have several workflows, each on its own state field: two workflows
    writing one field would each refuse the other's transitions."""
    rows = conn.execute(
        sa.select(document.c.name, document.c.document).where(
            document.c.kind == "workflow",
            document.c.entity == doc.get("entity"),
            document.c.name != name,
        )
    ).all()
    for r in rows:
        other = json.loads(r.document)
        if other.get("stateField") == doc.get("stateField"):
            return error(
                "/stateField",
                f"workflow {r.name!r} already drives {doc.get('entity')}.{doc.get('stateField')}; "
                "an entity may have several workflows, each on its own state field",
            )
    return None


def _state_moves(conn, snap, old_doc, new_doc, mapping) -> tuple[list[dict], list[Finding]]:
    new = parse_workflow(new_doc)
    old = parse_workflow(old_doc) if old_doc else None
    ce = snap.entity(new.entity)
    col = ce.table.c[new.state_field]
    counts = dict(conn.execute(sa.select(col, sa.func.count()).group_by(col)).all())
    renamed = (
        dict(diff_states(old, new).renamed)
        if old is not None and old.state_field == new.state_field
        else {}
    )
    moves, problems = [], []
    names = ", ".join(new.state_names)
    for state, target in mapping.items():
        if new.state(target) is None:
            problems.append(
                error(
                    f"/mapping/{state}", f"{target!r} is not a state of the new version ({names})"
                )
            )
        elif new.state(state) is not None:
            problems.append(
                error(f"/mapping/{state}", f"{state!r} is still a state; its records stay")
            )
    for state, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, str(kv[0]))):
        if state is None:
            moves.append({"from": None, "to": new.initial_state.name, "count": n})
            continue
        if new.state(state) is not None:
            continue
        target = mapping.get(state) or renamed.get(state)
        if target is None:
            problems.append(
                error(
                    f"/mapping/{state}",
                    f"state {state!r} is removed and {n} record(s) are in it: "
                    f"map it to one of {names}",
                )
            )
        elif new.state(target) is not None:
            moves.append({"from": state, "to": target, "count": n})
    return moves, problems


def save(
    conn: sa.Connection,
    kind: str,
    doc: Any,
    checker: Checker,
    *,
    source: str = "admin",
    actor: str | None = None,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> SavePlan:
    """Verify and save ``doc`` as the next revision (inside the caller's transaction); raise
    :class:`WorkflowInvalid`/:class:`RulesInvalid` with every error, or
    :class:`StateMappingNeeded`. ``dry_run``: return the plan, change nothing."""
    plan = plan_save(conn, kind, doc, checker, source=source, mapping=mapping)
    errors = plan.errors
    if errors:
        mapping_errors = [f for f in errors if f.pointer.startswith("/mapping/")]
        if mapping_errors and len(mapping_errors) == len(errors) and not dry_run:
            raise StateMappingNeeded(
                f"workflow {plan.name!r}: " + "; ".join(f.message for f in mapping_errors),
                mapping_errors,
                plan.moves,
            )
        if not dry_run:
            cls = WorkflowInvalid if kind == "workflow" else RulesInvalid
            raise cls(f"{KINDS[kind]} {plan.name!r}", errors)
        return plan
    if dry_run or plan.unchanged:
        return plan
    version = meta_store.lock_version(conn)
    now = meta_store.utcnow()
    current = _stored(conn, kind, plan.name)
    revision = (current.revision if current is not None else 0) + 1
    text = meta_store.dumps(doc)
    values = dict(
        entity=plan.entity,
        source=source,
        revision=revision,
        document=text,
        updated_at=now,
        updated_by=actor,
    )
    if current is None:
        conn.execute(document.insert().values(kind=kind, name=plan.name, **values))
    else:
        conn.execute(
            document.update()
            .where(document.c.kind == kind, document.c.name == plan.name)
            .values(**values)
        )
    if kind == "workflow":
        _move_records(conn, checker.snapshot, parse_workflow(doc), plan.moves, now)
    conn.execute(
        document_history.insert().values(
            kind=kind,
            name=plan.name,
            revision=revision,
            source=source,
            document=text,
            moved=json.dumps(plan.moves) if plan.moves else None,
            saved_at=now,
            saved_by=actor,
        )
    )
    meta_store.bump_version(conn, version)
    plan.revision, plan.saved = revision, True
    return plan


def _move_records(conn, snap, wf, moves: list[dict], now) -> None:
    """Move the records of removed states as the mapping says. Each move is audited (by the
    system, noted as ``stateMapping``) and sent to the outbox like any write; the stays in the
    time-in-state log are closed and opened, the moved records' approvals dropped."""
    ce = snap.entity(wf.entity)
    t = ce.table
    col = t.c[wf.state_field]
    for m in moves:
        where = col.is_(None) if m["from"] is None else col == m["from"]
        before = {r["id"]: r for r in conn.execute(sa.select(t).where(where)).mappings()}
        ids = sorted(before)
        conn.execute(
            t.update()
            .where(where)
            .values(
                {wf.state_field: m["to"], "row_version": t.c.row_version + 1, "updated_at": now}
            )
        )
        note = {"stateMapping": {"workflow": wf.name, "from": m["from"], "to": m["to"]}}
        for rid in ids:
            row = before[rid]
            moved = {
                **row,
                wf.state_field: m["to"],
                "row_version": row["row_version"] + 1,
                "updated_at": now,
            }
            journal.record_write(
                conn,
                SYSTEM,
                ce,
                "update",
                rid,
                ce.dump(row),
                ce.dump(moved),
                extra={"workflow": note},
            )
        if not ids:
            continue
        for chunk in _chunks(ids, 500):
            open_rows = (
                (state_log.c.entity == wf.entity)
                & state_log.c.record_id.in_(chunk)
                & state_log.c.left_at.is_(None)
            )
            conn.execute(
                state_log.update()
                .where(open_rows, state_log.c.workflow == wf.name)
                .values(left_at=now)
            )
            conn.execute(
                state_log.insert(),
                [
                    dict(
                        entity=wf.entity,
                        record_id=i,
                        workflow=wf.name,
                        state=m["to"],
                        entered_at=now,
                        timers_fired="[]",
                    )
                    for i in chunk
                ],
            )
            conn.execute(
                approval.delete().where(
                    approval.c.entity == wf.entity,
                    approval.c.record_id.in_(chunk),
                    approval.c.workflow == wf.name,
                )
            )


def _chunks(items: list, n: int) -> Iterable[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def remove(conn: sa.Connection, kind: str, name: str, actor: str | None = None) -> None:
    current = _stored(conn, kind, name)
    if current is None:
        raise DocumentNotFound(f"{KINDS.get(kind, kind)} {name!r} does not exist")
    version = meta_store.lock_version(conn)
    conn.execute(document.delete().where(document.c.kind == kind, document.c.name == name))
    conn.execute(
        document_history.insert().values(
            kind=kind,
            name=name,
            revision=current.revision + 1,
            source=current.source,
            document=None,
            saved_at=meta_store.utcnow(),
            saved_by=actor,
        )
    )
    meta_store.bump_version(conn, version)


def listing(conn: sa.Connection, kind: str, entity: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(document).where(document.c.kind == kind).order_by(document.c.name)
    if entity:
        q = q.where(document.c.entity == entity)
    return [_row(r) for r in conn.execute(q)]


def get(conn: sa.Connection, kind: str, name: str) -> dict[str, Any]:
    r = _stored(conn, kind, name)
    if r is None:
        raise DocumentNotFound(f"{KINDS.get(kind, kind)} {name!r} does not exist")
    return {**_row(r), "document": json.loads(r.document)}


def _row(r) -> dict[str, Any]:
    return {
        "name": r.name,
        "entity": r.entity,
        "source": r.source,
        "revision": r.revision,
        "updatedAt": r.updated_at.isoformat() + "Z",
        "updatedBy": r.updated_by,
    }


def history(conn: sa.Connection, kind: str, name: str) -> list[dict[str, Any]]:
    h = document_history
    rows = conn.execute(
        sa.select(h).where(h.c.kind == kind, h.c.name == name).order_by(h.c.id)
    ).all()
    if not rows:
        raise DocumentNotFound(f"{KINDS.get(kind, kind)} {name!r} does not exist")
    return [
        {
            "revision": r.revision,
            "source": r.source,
            "document": json.loads(r.document) if r.document else None,
            "moved": json.loads(r.moved) if r.moved else [],
            "savedAt": r.saved_at.isoformat() + "Z",
            "savedBy": r.saved_by,
        }
        for r in rows
    ]
