"""Roll-ups and automations of a rule set: checked and compiled once per version.

The pure engine (``xrm.workflow.rules``) checks validations, computed fields, defaults and form
rules; the two parts of a rule set that need the database live here: roll-ups (aggregates of
child records, kept current by the write path) and automations (actions run on record events,
on a schedule or relative to a date field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...metadata.model import EntityDefinition, fingerprint
from ...workflow import CompiledCache
from ...workflow.actions import ACTION_TYPES, ActionCompiler, CompiledAction
from ...workflow.errors import Finding, error
from ...workflow.expressions import Expression
from ...workflow.expressions.types import BOOL
from ...workflow.model import parse_actions
from ...workflow.timers import parse_duration
from ...workflow.validation import entity_versions
from .cron import CronError, parse_cron

NUMERIC = ("integer", "bigint", "decimal", "float")
TRIGGERS = ("create", "update", "delete", "transition", "schedule", "date")


#: Roll-up filter operators (the REST filter's names).
FILTER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "null")
_ORDERED = (*NUMERIC, "date", "datetime", "text", "string", "choice")


@dataclass(frozen=True)
class Rollup:
    field: str
    child: str
    via: str
    aggregate: str
    of: str | None
    filter: Mapping[str, Any]
    pointer: str
    #: The filter as (child field, operator, value coerced to the field's type), all must hold.
    conditions: tuple[tuple[str, str, Any], ...] = ()


@dataclass(frozen=True)
class CompiledAutomation:
    rules: str
    name: str
    on: str
    when: Expression | None
    actions: tuple[CompiledAction, ...]
    mode: str = "sync"
    fields: tuple[str, ...] = ()
    transition: str | None = None
    cron: Any = None
    field: str | None = None
    offset: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class CompiledExtras:
    rules: str
    entity: str
    rollups: tuple[Rollup, ...] = ()
    automations: tuple[CompiledAutomation, ...] = ()

    def automations_on(self, trigger: str) -> tuple[CompiledAutomation, ...]:
        return tuple(a for a in self.automations if a.on == trigger)


def extras_findings(
    doc: Mapping[str, Any],
    entity: EntityDefinition,
    entities: Mapping[str, EntityDefinition] | None,
) -> tuple[list[Finding], CompiledExtras]:
    """Every problem of the roll-ups and automations of a rule set (which already passed the
    meta-schema), and their compiled form."""
    findings: list[Finding] = []
    entities = entities or {}
    rollups = [
        _rollup(r, i, entity, entities, findings) for i, r in enumerate(doc.get("rollups") or ())
    ]
    ac = ActionCompiler(entity, entities, findings)
    automations = []
    names: set[str] = set()
    for i, a in enumerate(doc.get("automations") or ()):
        ptr = f"/automations/{i}"
        if a["name"] in names:
            findings.append(error(f"{ptr}/name", f"automation {a['name']!r} is declared twice"))
        names.add(a["name"])
        automations.append(_automation(doc["name"], a, ptr, entity, ac, findings))
    compiled = CompiledExtras(
        doc["name"], entity.name, tuple(r for r in rollups if r), tuple(automations)
    )
    return findings, compiled


def compile_extras(
    doc: Mapping[str, Any],
    entity: EntityDefinition,
    entities: Mapping[str, EntityDefinition] | None,
    cache: CompiledCache | None = None,
) -> CompiledExtras:
    from ...workflow.rules import RulesInvalid

    def build() -> CompiledExtras:
        findings, compiled = extras_findings(doc, entity, entities)
        errors = [f for f in findings if f.is_error]
        if errors:
            raise RulesInvalid(f"rule set {doc.get('name')!r}", errors)
        return compiled

    if cache is None:
        return build()
    return cache.get(("extras", fingerprint(doc), *entity_versions(entity, entities)), build)


def _rollup(r, i, entity, entities, findings) -> Rollup | None:
    ptr = f"/rollups/{i}"
    bad = len(findings)
    target = entity.field(r["field"])
    if target is None:
        findings.append(error(f"{ptr}/field", f"{entity.name} has no field {r['field']!r}"))
    elif target.type not in NUMERIC and r["aggregate"] in ("count", "sum", "avg"):
        findings.append(
            error(
                f"{ptr}/field",
                f"a {r['aggregate']} is stored in a number field; {target.name!r} is {target.type}",
            )
        )
    child = entities.get(r["entity"])
    if child is None:
        findings.append(error(f"{ptr}/entity", f"entity {r['entity']!r} does not exist"))
        return None
    via = child.field(r["via"])
    if via is None or via.type != "reference" or via.opt("target") != entity.name:
        findings.append(
            error(f"{ptr}/via", f"{child.name}.{r['via']} is not a reference to {entity.name}")
        )
    of = r.get("of")
    if r["aggregate"] != "count":
        f = child.field(of) if of else None
        if f is None:
            findings.append(
                error(f"{ptr}/of", f"{r['aggregate']} needs 'of', a field of {child.name}")
            )
        elif r["aggregate"] in ("sum", "avg") and f.type not in NUMERIC:
            findings.append(
                error(
                    f"{ptr}/of", f"{child.name}.{of} is {f.type}; {r['aggregate']} needs a number"
                )
            )
        elif f.type not in (*NUMERIC, "date", "datetime"):
            findings.append(
                error(f"{ptr}/of", f"{child.name}.{of} is {f.type}; it cannot be aggregated")
            )
    conditions = []
    for name, test in (r.get("filter") or {}).items():
        f = child.field(name)
        if f is None:
            findings.append(error(f"{ptr}/filter/{name}", f"{child.name} has no field {name!r}"))
            continue
        conditions += _conditions(f, test, f"{ptr}/filter/{name}", findings)
    if len(findings) > bad:
        return None
    return Rollup(
        r["field"],
        child.name,
        r["via"],
        r["aggregate"],
        of,
        dict(r.get("filter") or {}),
        ptr,
        tuple(conditions),
    )


def _conditions(f, test, ptr, findings) -> list[tuple[str, str, Any]]:
    """A roll-up filter entry as (field, operator, value) conditions, values coerced to the
    field's type (an error names the operator and the value)."""
    from ...metadata.fieldtypes import FIELD_TYPES, FieldValueError

    if isinstance(test, list):
        test = {"in": test}
    elif not isinstance(test, dict):
        test = {"eq": test}
    ftype = FIELD_TYPES.get(f.type)
    if ftype is None or len(ftype.column_names(f)) != 1 or ftype.association:
        findings.append(error(ptr, f"{f.name!r} ({f.type}) cannot be used in a roll-up filter"))
        return []
    import dataclasses

    from ...metadata.model import freeze

    # Without the field's validation constraints (a filter "gt 200" on ages up to 150 is fair).
    relaxed = {"maxLength": None, **({"enum": f.kw("enum")} if f.kw("enum") is not None else {})}
    spec = dataclasses.replace(f, schema=freeze(relaxed))
    out = []
    for op, value in test.items():
        if op in ("gt", "gte", "lt", "lte") and f.type not in _ORDERED:
            findings.append(
                error(f"{ptr}/{op}", f"{op} needs an ordered field; {f.name!r} is {f.type}")
            )
            continue
        if op == "null":
            out.append((f.name, op, bool(value)))
            continue
        try:
            values = [ftype.coerce(spec, v, True) for v in (value if op == "in" else [value])]
        except FieldValueError as exc:
            findings.append(error(f"{ptr}/{op}", f"{value!r} is not a value of {f.name!r}: {exc}"))
            continue
        out.append((f.name, op, values if op == "in" else values[0]))
    return out


def _automation(rules_name, a, ptr, entity, ac: ActionCompiler, findings) -> CompiledAutomation:
    on = a["on"]
    misplaced = {
        "fields": on != "update",
        "transition": on != "transition",
        "cron": on != "schedule",
        "field": on != "date",
        "offset": on != "date",
    }
    for key, wrong in misplaced.items():
        if wrong and key in a:
            findings.append(
                error(f"{ptr}/{key}", f"{key!r} does not apply to an automation on {on}")
            )
    for j, name in enumerate(a.get("fields") or ()):
        if entity.field(name) is None:
            findings.append(error(f"{ptr}/fields/{j}", f"{entity.name} has no field {name!r}"))
    cron = None
    if on == "schedule":
        try:
            cron = parse_cron(a["cron"])
        except CronError as exc:
            findings.append(error(f"{ptr}/cron", str(exc)))
    if on == "date":
        f = entity.field(a["field"])
        if f is None or f.type not in ("date", "datetime"):
            findings.append(
                error(f"{ptr}/field", f"{entity.name}.{a['field']} is not a date or datetime field")
            )
        if a.get("offset"):
            parse_duration(a["offset"])
    when = None
    if a.get("when"):
        when = ac.expression(
            a["when"], f"{ptr}/when", f"condition of automation {a['name']!r}", BOOL
        )
    actions = tuple(
        ac.compile(s)
        for s in parse_actions(a["actions"], "automations", int(ptr.rsplit("/", 1)[1]), "actions")
    )
    if on == "delete":
        for s in actions:
            if s.spec.type == "setFields":
                findings.append(error(s.spec.pointer, "a deleted record cannot have fields set"))
    return CompiledAutomation(
        rules_name,
        a["name"],
        on,
        when,
        actions,
        a.get("mode", "sync"),
        tuple(a.get("fields") or ()),
        a.get("transition"),
        cron,
        a.get("field"),
        a.get("offset"),
        ptr,
    )


def plugin_action_types(extras: CompiledExtras) -> list[tuple[str, str]]:
    """(type, pointer) of every plugin action an automation uses (checked by verify)."""
    return [
        (s.spec.type, s.spec.pointer)
        for a in extras.automations
        for s in a.actions
        if s.spec.type not in ACTION_TYPES
    ]
