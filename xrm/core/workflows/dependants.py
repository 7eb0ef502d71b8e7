"""Entity changes against the stored workflows and rule sets that depend on them.

The entity planner (``xrm.metadata.planner``) is pure and knows nothing of workflows. The
registry runs the :func:`plan_check` registered here when a plan is made and again inside the
apply transaction: every stored workflow and rule set that compiles against the current
definitions is compiled against the planned ones, and one that would stop compiling (its state
field or a field a guard, rule or roll-up uses is removed or changes type) is a blocking problem
naming the document and the field. Nothing is applied.

A renamed field (``renamedFrom``) is followed: the documents are rewritten (field names in the
places that hold field names, ``record.<old>``/``before.<old>`` in expressions and templates),
checked against the planned definitions, and saved as a new revision in the apply transaction
by :func:`follow_renames`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ...metadata import store as meta_store
from ...metadata.errors import DefinitionProblem
from ...metadata.model import EntityDefinition
from ...metadata.planner import MigrationPlan, RenameField
from ...workflow import WorkflowInvalid, check_workflow
from ...workflow.rules import check_rules
from .extras import compile_extras
from .tables import document, document_history

KIND_LABEL = {"workflow": "workflow", "rules": "rule set"}

#: Keys whose value is a field of the document's entity (a name or a list of names).
_OWN_NAME = {"stateField", "field", "at"}
_OWN_LIST = {"required", "readOnly", "fields", "requiredFields", "show", "hide", "require"}


def renames_of(plan: MigrationPlan) -> dict[str, dict[str, str]]:
    """entity -> {old field name: new field name} of the plan."""
    out: dict[str, dict[str, str]] = {}
    for op in plan.operations:
        if isinstance(op, RenameField):
            out.setdefault(op.entity, {})[op.old.name] = op.new.name
    return out


def _expr_rewrite(text: str, renames: Mapping[str, str]) -> str:
    if not renames or ("record." not in text and "before." not in text):
        return text
    pattern = re.compile(
        r"(?<![\w.])(record|before)\.(" + "|".join(map(re.escape, renames)) + r")\b"
    )
    return pattern.sub(lambda m: f"{m.group(1)}.{renames[m.group(2)]}", text)


def _names(value: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return renames.get(value, value)
    if isinstance(value, list):
        return [renames.get(v, v) if isinstance(v, str) else v for v in value]
    return value


def rename_in(doc: Any, entity: str, renames: Mapping[str, Mapping[str, str]]) -> Any:
    """``doc`` (a workflow or rule set of ``entity``) with the renamed fields followed."""
    own = renames.get(entity, {})

    def walk(node: Any, key: str | None = None) -> Any:
        if isinstance(node, str):
            return _expr_rewrite(node, own)
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        # A createRecord action's values are keyed by the target's fields; a roll-up's via,
        # of and filter name fields of the child entity.
        other = renames.get(node.get("entity"), {}) if isinstance(node.get("entity"), str) else {}
        is_rollup = key == "rollup"
        for k, v in node.items():
            if k in _OWN_NAME and isinstance(v, str):
                out[k] = own.get(v, v)
            elif k in _OWN_LIST and isinstance(v, list):
                out[k] = _names(v, own)
            elif is_rollup and k in ("via", "of") and isinstance(v, str):
                out[k] = other.get(v, v)
            elif is_rollup and k == "filter" and isinstance(v, dict):
                out[k] = {other.get(f, f): c for f, c in v.items()}
            elif k == "values" and isinstance(v, dict):
                names = other if node.get("type") == "createRecord" else own
                out[k] = {names.get(f, f): walk(e) for f, e in v.items()}
            elif k == "rollups" and isinstance(v, list):
                out[k] = [walk(r, "rollup") for r in v]
            else:
                out[k] = walk(v)
        return out

    return walk(doc)


def _compile(kind: str, doc: Any, entities: Mapping[str, EntityDefinition], cache) -> list[str]:
    """The errors of ``doc`` against ``entities`` (empty: it compiles)."""
    entity = entities.get(doc.get("entity"))
    if entity is None:
        return [f"its entity {doc.get('entity')!r} is removed"]
    try:
        if kind == "workflow":
            check_workflow(doc, entity, entities, cache=cache)
        else:
            check_rules(doc, entity, cache=cache)
            compile_extras(doc, entity, entities, cache=cache)
    except WorkflowInvalid as exc:
        return [
            f"{p.pointer}: {p.message}" if getattr(p, "pointer", None) else str(p)
            for p in (getattr(exc, "problems", None) or [exc])
        ]
    return []


def planned_documents(
    conn: sa.Connection, current: Mapping[str, EntityDefinition], plan: MigrationPlan, cache=None
) -> tuple[list[DefinitionProblem], list[tuple[str, str, dict]]]:
    """The blocking problems of ``plan`` for the stored documents, and the documents that follow
    a rename: [(kind, name, rewritten document)]."""
    if not plan.definitions and not plan.removed:
        return [], []
    new = {n: d for n, d in current.items() if n not in plan.removed}
    new.update(plan.definitions)
    renames = renames_of(plan)
    touched = set(plan.definitions) | set(plan.removed)
    problems: list[DefinitionProblem] = []
    rewritten: list[tuple[str, str, dict]] = []
    rows = conn.execute(
        sa.select(document.c.kind, document.c.name, document.c.document).order_by(
            document.c.kind, document.c.name
        )
    ).all()
    for r in rows:
        doc = json.loads(r.document)
        if touched.isdisjoint(_entities_named(doc)):
            continue
        if _compile(r.kind, doc, current, cache):
            continue  # already broken before this change: listed as invalid, not our doing
        followed = rename_in(doc, doc.get("entity"), renames) if renames else doc
        errors = _compile(r.kind, followed, new, cache)
        if errors:
            label = f"{KIND_LABEL.get(r.kind, r.kind)} {r.name!r}"
            for e in errors:
                problems.append(
                    DefinitionProblem(
                        f"{doc.get('entity')}",
                        f"{label} would no longer be valid: {e}; change or remove it first",
                    )
                )
        elif followed != doc:
            rewritten.append((r.kind, r.name, followed))
    return problems, rewritten


def _entities_named(doc: Any) -> set[str]:
    """Every entity name a document mentions (its own, roll-up children, created records)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("entity"), str):
                found.add(node["entity"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return found


def save_followed(
    conn: sa.Connection, rewritten: list[tuple[str, str, dict]], actor: str | None
) -> None:
    """Store the documents that follow a rename as their next revision (inside the apply
    transaction, whose version bump makes every process recompile them)."""
    now = meta_store.utcnow()
    for kind, name, doc in rewritten:
        current = conn.execute(
            sa.select(document).where(document.c.kind == kind, document.c.name == name)
        ).first()
        if current is None:
            continue
        text = meta_store.dumps(doc)
        revision = current.revision + 1
        conn.execute(
            document.update()
            .where(document.c.kind == kind, document.c.name == name)
            .values(document=text, revision=revision, updated_at=now, updated_by=actor)
        )
        conn.execute(
            document_history.insert().values(
                kind=kind,
                name=name,
                revision=revision,
                source=current.source,
                document=text,
                moved=None,
                saved_at=now,
                saved_by=actor,
            )
        )
