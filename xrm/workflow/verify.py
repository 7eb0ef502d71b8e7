"""Static verification of a workflow before it is activated.

:func:`verify` runs everything :func:`~xrm.workflow.validation.workflow_findings` checks when a
definition is saved (structure, references, expressions and their types) and adds what needs
the platform's context or the whole graph: roles and plugin action types that must exist,
states that cannot be reached, states from which no final state can be reached, transitions
into a state whose required fields nobody fills. Errors block activation; warnings are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from xrm.metadata.model import EntityDefinition, thaw
from xrm.metadata.validation import pointer

from .actions import ACTION_TYPES
from .compiler import CompiledWorkflow
from .errors import Finding, error, warning
from .model import ActionSpec, WorkflowDefinition
from .validation import workflow_findings


def verify(
    workflow: Mapping[str, Any] | WorkflowDefinition | CompiledWorkflow,
    entity: EntityDefinition,
    known_roles: Iterable[str] | None,
    known_actions: Iterable[str] | Mapping[str, Mapping[str, Any] | None] | None,
    entities: Mapping[str, EntityDefinition] | None = None,
) -> list[Finding]:
    """Every finding about ``workflow``, errors first. ``known_roles``: the role names that
    exist; ``known_actions``: the action types plugins registered, optionally mapped to the JSON
    Schema of their ``params``; ``entities``: definitions ``createRecord`` may target. ``None``
    skips the corresponding check."""
    doc = workflow
    if isinstance(workflow, CompiledWorkflow):
        doc = workflow.definition.document
    elif isinstance(workflow, WorkflowDefinition):
        doc = workflow.document
    findings, compiled = workflow_findings(thaw(doc), entity, entities)
    if compiled is not None:
        defn = compiled.definition
        findings += _graph(defn)
        findings += _required_on_entry(compiled)
        if known_roles is not None:
            findings += _roles(defn, set(known_roles))
        if known_actions is not None:
            findings += _actions(defn, known_actions)
        if entities is None:
            findings += _unchecked_targets(defn, entity)
    return sorted(findings, key=lambda f: not f.is_error)  # stable: document order within


def _at(doc: Any, ptr: str) -> Any:
    for part in ptr.strip("/").split("/"):
        doc = doc[int(part)] if isinstance(doc, list | tuple) else doc[part]
    return doc


def _all_actions(defn: WorkflowDefinition) -> list[ActionSpec]:
    out = [a for t in defn.transitions for a in t.actions]
    out += [a for s in defn.states for timer in s.timers for a in timer.actions]
    return out


def _graph(defn: WorkflowDefinition) -> list[Finding]:
    out: list[Finding] = []
    edges: dict[str, set[str]] = {s: set() for s in defn.state_names}
    for t in defn.transitions:
        for src in t.sources:
            if src in edges and t.to in edges:
                edges[src].add(t.to)
    initial = defn.initial_state
    if initial is not None:
        reached = _closure({initial.name}, edges)
        for s in defn.states:
            if s.name not in reached:
                out.append(
                    warning(
                        s.pointer,
                        f"state {s.name!r} cannot be reached from the initial state {initial.name!r}",
                    )
                )
    finals = set(defn.final_states)
    if not finals:
        out.append(error("/states", "no state is final: records could never be completed"))
        return out
    reverse: dict[str, set[str]] = {s: set() for s in edges}
    for src, targets in edges.items():
        for dst in targets:
            reverse[dst].add(src)
    can_finish = _closure(finals, reverse)
    for s in defn.states:
        if s.name not in can_finish:
            out.append(
                error(
                    s.pointer,
                    f"no final state can be reached from state {s.name!r}: records there would be stuck",
                )
            )
    return out


def _closure(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _required_on_entry(wf: CompiledWorkflow) -> list[Finding]:
    out = []
    for t in wf.transitions:
        target = wf.definition.state(t.spec.to)
        for f in target.required if target else ():
            spec = wf.entity.field(f)
            if spec is not None and spec.required:
                continue  # always filled
            if f not in t.spec.fields and f not in t.sets_fields:
                out.append(
                    warning(
                        t.spec.pointer,
                        f"state {target.name!r} requires {f!r}, which transition "
                        f"{t.name!r} neither asks for (fields) nor sets; it must be filled beforehand",
                    )
                )
    return out


def _roles(defn: WorkflowDefinition, roles: set[str]) -> list[Finding]:
    out = []

    def check(names, base):
        for i, r in enumerate(names):
            if r not in roles:
                out.append(
                    error(base if base.endswith("/role") else f"{base}/{i}", f"unknown role {r!r}")
                )

    for t in defn.transitions:
        check(t.roles, f"{t.pointer}/roles")
        for step in t.approvals:
            single = "role" in _at(defn.document, step.pointer)
            check(step.roles, f"{step.pointer}/role" if single else f"{step.pointer}/roles")
    for a in _all_actions(defn):
        if a.type == "notify":
            check((a.params.get("to") or {}).get("roles", ()), f"{a.pointer}/to/roles")
    return out


def _actions(defn: WorkflowDefinition, known: Iterable[str] | Mapping[str, Any]) -> list[Finding]:
    out = []
    schemas = known if isinstance(known, Mapping) else dict.fromkeys(known)
    for a in _all_actions(defn):
        if a.type in ACTION_TYPES:
            continue
        if a.type not in schemas:
            hint = (
                f" (registered: {', '.join(sorted(schemas))})"
                if schemas
                else " (no plugin registers actions)"
            )
            out.append(error(f"{a.pointer}/type", f"unknown action type {a.type!r}{hint}"))
            continue
        schema = schemas[a.type]
        if schema:
            params = thaw(a.params.get("params") or {})
            for err in Draft202012Validator(schema).iter_errors(params):
                ptr = f"{a.pointer}/params{pointer(*err.absolute_path)}"
                out.append(error(ptr, f"{a.type}: {err.message}"))
    return out


def _unchecked_targets(defn: WorkflowDefinition, entity: EntityDefinition) -> list[Finding]:
    return [
        warning(
            f"{a.pointer}/entity",
            f"the fields of {a.params.get('entity')!r} were not checked (no entity definitions given)",
        )
        for a in _all_actions(defn)
        if a.type == "createRecord" and a.params.get("entity") != entity.name
    ]
