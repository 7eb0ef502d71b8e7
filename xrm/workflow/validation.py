"""Validation of workflow documents: every problem, each with a JSON pointer.

Three passes, each returning a list: the meta-schema (structure), the references JSON Schema
cannot check (states, fields of the entity, timers, approvals), and the expressions (compiled and
type-checked against the entity's fields). :func:`check_workflow` runs them when a definition is
saved and raises :class:`~xrm.workflow.errors.WorkflowInvalid` with every error at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xrm.metadata.model import EntityDefinition, fingerprint
from xrm.metadata.names import SYSTEM_COLUMNS
from xrm.metadata.validation import pointer

from .compiler import CompiledCache, CompiledWorkflow, compile_parts
from .errors import Finding, WorkflowInvalid, error, warning
from .metaschema import workflow_metaschema_validator
from .model import WorkflowDefinition, parse_workflow
from .schemacheck import schema_findings

STATE_FIELD_TYPES = ("choice", "text")
TIMER_FIELD_TYPES = ("date", "datetime")


def reference_findings(defn: WorkflowDefinition, entity: EntityDefinition) -> list[Finding]:
    """States, fields and names a workflow refers to must exist and fit."""
    out: list[Finding] = []
    if defn.entity != entity.name:
        out.append(
            error(
                "/entity", f"the workflow is for {defn.entity!r}, checked against {entity.name!r}"
            )
        )
    out += _state_field(defn, entity)
    initial = [s.name for s in defn.states if s.initial]
    if len(initial) != 1:
        which = f"; found {', '.join(initial)}" if initial else ""
        out.append(error("/states", f"exactly one state must be initial{which}"))
    fields = _FieldCheck(entity, defn.state_field, out)
    for s in defn.states:
        fields.check(s.required, s.pointer, "required")
        fields.check(s.read_only, s.pointer, "readOnly")
        out += _timers(defn, s, entity)
    seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(defn.transitions):
        raw = defn.document["transitions"][i]
        for j, src in enumerate(() if raw["from"] == "*" else _as_list(raw["from"])):
            if defn.state(src) is None:
                ptr = pointer(
                    "transitions",
                    i,
                    "from",
                    *((j,) if isinstance(raw["from"], list | tuple) else ()),
                )
                out.append(error(ptr, f"transition {t.name!r} leaves unknown state {src!r}"))
        if defn.state(t.to) is None:
            out.append(
                error(f"{t.pointer}/to", f"transition {t.name!r} goes to unknown state {t.to!r}")
            )
        for src in t.sources:
            if (t.name, src) in seen:
                out.append(
                    error(
                        f"{t.pointer}/name",
                        f"two transitions named {t.name!r} leave state {src!r} "
                        f"(the other is /transitions/{seen[(t.name, src)]})",
                    )
                )
            seen.setdefault((t.name, src), i)
        fields.check(raw.get("fields", ()), t.pointer, "fields")
        fields.check(t.required_fields, t.pointer, "requiredFields")
        if t.owner_only and t.not_by_owner:
            out.append(
                error(
                    t.pointer,
                    f"transition {t.name!r} is both ownerOnly and notByOwner: nobody can take it",
                )
            )
        names: set[str] = set()
        for step in t.approvals:
            if step.name in names:
                out.append(
                    error(f"{step.pointer}/name", f"approval step {step.name!r} is declared twice")
                )
            names.add(step.name)
            fields.check(step.covers, step.pointer, "covers")
    return out


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _state_field(defn: WorkflowDefinition, entity: EntityDefinition) -> list[Finding]:
    f = entity.field(defn.state_field)
    if f is None:
        return [error("/stateField", f"{entity.name} has no field {defn.state_field!r}")]
    if f.type not in STATE_FIELD_TYPES:
        return [
            error(
                "/stateField",
                f"the state field must be a choice or text field; {f.name!r} is {f.type}",
            )
        ]
    out = []
    options = [v for v in f.kw("enum", ()) if v is not None]
    if f.type == "choice":
        for s in defn.states:
            if s.name not in options:
                out.append(
                    error(
                        s.pointer,
                        f"state {s.name!r} is not an option of field {f.name!r} ({', '.join(options)})",
                    )
                )
        for v in options:
            if defn.state(v) is None:
                out.append(
                    warning(
                        "/stateField",
                        f"option {v!r} of field {f.name!r} is not a state of the workflow",
                    )
                )
    maxlen = f.kw("maxLength", 255)
    for s in defn.states:
        if f.type == "text" and len(s.name) > maxlen:
            out.append(
                error(s.pointer, f"state name longer than field {f.name!r} allows ({maxlen})")
            )
    return out


class _FieldCheck:
    def __init__(self, entity: EntityDefinition, state_field: str, out: list[Finding]):
        self.entity, self.state_field, self.out = entity, state_field, out

    def check(self, names: Iterable[str], base: str, key: str) -> None:
        for i, name in enumerate(names):
            ptr = f"{base}/{key}/{i}"
            if name == self.state_field:
                self.out.append(error(ptr, f"{name!r} is the state field; transitions change it"))
            elif self.entity.field(name) is None and name not in SYSTEM_COLUMNS:
                self.out.append(error(ptr, f"{self.entity.name} has no field {name!r}"))


def _timers(defn: WorkflowDefinition, state, entity: EntityDefinition) -> list[Finding]:
    out, names = [], set()
    for timer in state.timers:
        if timer.name in names:
            out.append(
                error(
                    f"{timer.pointer}/name",
                    f"state {state.name!r} has two timers named {timer.name!r}",
                )
            )
        names.add(timer.name)
        if timer.at is not None:
            f = entity.field(timer.at)
            if f is None:
                out.append(error(f"{timer.pointer}/at", f"{entity.name} has no field {timer.at!r}"))
            elif f.type not in TIMER_FIELD_TYPES:
                out.append(
                    error(
                        f"{timer.pointer}/at",
                        f"a timer waits for a date or datetime field; {f.name!r} is {f.type}",
                    )
                )
        elif timer.after is not None and timer.after.startswith("-"):
            out.append(
                error(
                    f"{timer.pointer}/after",
                    "'after' counts forward from entering the state; it cannot be negative",
                )
            )
        elif timer.offset is not None:
            out.append(
                error(
                    f"{timer.pointer}/offset",
                    "offset shifts the date of 'at'; use 'after' alone for a delay",
                )
            )
        if timer.transition is not None and defn.transition(timer.transition, state.name) is None:
            out.append(
                error(
                    f"{timer.pointer}/transition",
                    f"no transition {timer.transition!r} leaves state {state.name!r}",
                )
            )
    return out


def workflow_findings(
    doc: Any, entity: EntityDefinition, entities: Mapping[str, EntityDefinition] | None = None
) -> tuple[list[Finding], CompiledWorkflow | None]:
    """Every finding of a document (errors and warnings), and the compiled workflow when the
    document could be compiled at all."""
    findings = schema_findings(workflow_metaschema_validator(), doc)
    if findings:
        return findings, None
    defn = parse_workflow(doc)
    findings += reference_findings(defn, entity)
    compiled, problems = compile_parts(defn, entity, entities)
    return findings + problems, compiled


def check_workflow(
    doc: Any,
    entity: EntityDefinition,
    entities: Mapping[str, EntityDefinition] | None = None,
    cache: CompiledCache | None = None,
) -> CompiledWorkflow:
    """Validate a document completely and return it compiled, or raise with every error.

    With a ``cache``, a document already compiled against the same entity version is reused."""

    def build() -> CompiledWorkflow:
        findings, compiled = workflow_findings(doc, entity, entities)
        errors = [f for f in findings if f.is_error]
        if errors or compiled is None:
            raise WorkflowInvalid(_subject(doc), errors)
        return compiled

    if cache is None:
        return build()
    return cache.get(("workflow", fingerprint(doc), *entity_versions(entity, entities)), build)


def entity_versions(
    entity: EntityDefinition, entities: Mapping[str, EntityDefinition | None] | None
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The versions a compiled definition depends on, as part of a cache key."""
    others = tuple(sorted((n, e.fingerprint if e else "") for n, e in (entities or {}).items()))
    return entity.fingerprint, others


def _subject(doc: Any) -> str:
    name = doc.get("name") if isinstance(doc, Mapping) else None
    return f"workflow {name!r}" if isinstance(name, str) else "workflow definition"
