"""Actions, declared as data: what runs when a transition fires or a timer is due.

Each built-in action type is one :class:`ActionType` entry (its parameters as JSON Schema, which
the meta-schema embeds), like the field types of the metadata engine. A plugin's action type is
any namespaced name (``crm.send_quote``) with free ``params``; :func:`xrm.workflow.verify.verify`
checks it against the action types plugins registered. Here actions are compiled and evaluated
only: ``setFields`` yields new field values; every other action yields an :class:`Effect`, plain
data that the record service hands to the outbox after the record is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from xrm.metadata.model import EntityDefinition, thaw
from xrm.metadata.names import ENTITY_NAME_PATTERN, FIELD_NAME_PATTERN, SYSTEM_COLUMNS

from .errors import Finding, error
from .expressions import Activation, Expression, compile_expression
from .expressions.types import BOOL, CelType, field_cel_type, standard_variables
from .expressions.values import field_value
from .model import ActionSpec

EXPRESSION = {
    "type": "string",
    "minLength": 1,
    "maxLength": 4000,
    "description": "A CEL expression.",
}
TEMPLATE = {
    "type": "string",
    "minLength": 1,
    "maxLength": 10000,
    "description": "Text with {{ expression }} placeholders.",
}
VALUES = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": FIELD_NAME_PATTERN},
    "additionalProperties": EXPRESSION,
    "description": "Field name -> CEL expression computing its value.",
}


@dataclass(frozen=True)
class ActionType:
    name: str
    doc: str
    #: Parameters: name -> JSON Schema (embedded in the published meta-schema).
    params: Mapping[str, dict]
    required: tuple[str, ...] = ()


ACTION_TYPES: Mapping[str, ActionType] = MappingProxyType(
    {
        t.name: t
        for t in (
            ActionType(
                "setFields",
                "Set fields of the record; each value is computed by an expression that sees "
                "the record as the earlier actions left it.",
                {"values": VALUES},
                ("values",),
            ),
            ActionType(
                "createRecord",
                "Create a record of another (or the same) entity, e.g. an opportunity from a "
                "converted lead; values are expressions over the source record.",
                {"entity": {"type": "string", "pattern": ENTITY_NAME_PATTERN}, "values": VALUES},
                ("entity", "values"),
            ),
            ActionType(
                "notify",
                "Notify users: the owner, every user with one of the roles, and the users "
                "an expression names (a user id or a list of ids).",
                {
                    "to": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {
                            "owner": {"type": "boolean"},
                            "roles": {"type": "array", "items": {"type": "string", "minLength": 1}},
                            "users": EXPRESSION,
                        },
                    },
                    "subject": TEMPLATE,
                    "body": TEMPLATE,
                },
                ("to", "subject"),
            ),
            ActionType(
                "webhook",
                "Call an HTTP(S) endpoint with a JSON payload (default: the record).",
                {
                    "url": {"type": "string", "pattern": "^https?://[^\\s]+$", "maxLength": 2000},
                    "method": {"enum": ["POST", "PUT", "PATCH"]},
                    "payload": {**VALUES, "propertyNames": {"type": "string", "minLength": 1}},
                },
                ("url",),
            ),
        )
    }
)

#: A plugin action: a namespaced action name with free parameters.
PLUGIN_ACTION_PATTERN = ENTITY_NAME_PATTERN
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)


@dataclass(frozen=True)
class Template:
    """Text with ``{{ expression }}`` placeholders."""

    parts: tuple[str | Expression, ...]

    def render(self, activation: Activation) -> str:
        return "".join(
            p if isinstance(p, str) else _text(p.evaluate(activation)) for p in self.parts
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Effect:
    """A side effect to carry out once the record is saved (notification, webhook, new record,
    plugin action): plain data for the outbox."""

    type: str
    data: Mapping[str, Any]
    pointer: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "data": thaw(self.data), "pointer": self.pointer}


@dataclass(frozen=True)
class CompiledAction:
    spec: ActionSpec
    when: Expression | None = None
    values: Mapping[str, Expression] = field(default_factory=dict)
    templates: Mapping[str, Template] = field(default_factory=dict)
    users: Expression | None = None
    #: The entity a ``createRecord`` action creates (its values are converted for it).
    target: EntityDefinition | None = field(default=None, repr=False)

    @property
    def sets_fields(self) -> tuple[str, ...]:
        return tuple(self.values) if self.spec.type == "setFields" else ()


class ActionCompiler:
    """Compiles the actions of one definition, collecting every problem as a finding."""

    def __init__(
        self,
        entity: EntityDefinition,
        entities: Mapping[str, EntityDefinition] | None,
        findings: list[Finding],
        protected: frozenset[str] = frozenset(),
    ):
        self.entity = entity
        self.entities = entities
        self.findings = findings
        #: Fields no action may set (the workflow's state field).
        self.protected = protected
        self.variables = standard_variables(entity)

    def expression(
        self, source: str, ptr: str, what: str, expect: CelType | None = None, target: str = ""
    ) -> Expression | None:
        expr, problems = compile_expression(source, self.variables, expect, target)
        self.findings.extend(error(ptr, f"{what}: {p}") for p in problems)
        return expr

    def compile(self, spec: ActionSpec) -> CompiledAction:
        kind = spec.type
        when = None
        if spec.when is not None:
            when = self.expression(
                spec.when, f"{spec.pointer}/when", f"condition of the {kind} action", BOOL
            )
        compile_one: Callable[[ActionSpec], dict] | None = getattr(self, f"_{kind}", None)
        parts = compile_one(spec) if kind in ACTION_TYPES and compile_one else {}
        return CompiledAction(spec, when, **parts)

    def _values(self, spec: ActionSpec, target: EntityDefinition | None, what: str) -> dict:
        out = {}
        for name, source in (spec.params.get("values") or {}).items():
            ptr = f"{spec.pointer}/values/{name}"
            f = target.field(name) if target else None
            if target is not None and f is None and name not in SYSTEM_COLUMNS:
                self.findings.append(error(ptr, f"{target.name} has no field {name!r}"))
                continue
            if target is not None and (name in SYSTEM_COLUMNS or f.type == "autonumber"):
                self.findings.append(error(ptr, f"{name!r} is set by the platform, not by actions"))
                continue
            if target is self.entity and name in self.protected:
                self.findings.append(
                    error(
                        ptr,
                        f"{name!r} is the workflow's state field; it changes only by transitions",
                    )
                )
                continue
            expect = field_cel_type(f) if f else None
            expr = self.expression(
                source, ptr, f"value of {name!r} ({what})", expect, f"field {name!r}"
            )
            if expr is not None:
                out[name] = expr
        return out

    def _setFields(self, spec: ActionSpec) -> dict:
        return {"values": self._values(spec, self.entity, "setFields")}

    def _createRecord(self, spec: ActionSpec) -> dict:
        name = spec.params.get("entity")
        target = (self.entities or {}).get(name) if name != self.entity.name else self.entity
        if target is None and self.entities is not None:
            self.findings.append(error(f"{spec.pointer}/entity", f"entity {name!r} does not exist"))
        values = self._values(spec, target, f"new {name} record")
        for f in target.fields if target else ():
            if f.required and not f.has_default and f.name not in values and f.type != "autonumber":
                self.findings.append(
                    error(
                        f"{spec.pointer}/values",
                        f"the new {name} record needs a value for required field {f.name!r}",
                    )
                )
        return {"values": values, "target": target}

    def _notify(self, spec: ActionSpec) -> dict:
        to = spec.params.get("to") or {}
        users = None
        if to.get("users") is not None:
            users = self.expression(to["users"], f"{spec.pointer}/to/users", "recipients")
            if users is not None and users.type.kind not in ("int", "list", "dyn"):
                self.findings.append(
                    error(
                        f"{spec.pointer}/to/users",
                        f"recipients must be a user id or a list of ids, not {users.type}",
                    )
                )
        templates = {}
        for key in ("subject", "body"):
            if spec.params.get(key) is not None:
                templates[key] = self.template(spec.params[key], f"{spec.pointer}/{key}", key)
        return {"templates": templates, "users": users}

    def _webhook(self, spec: ActionSpec) -> dict:
        out = {}
        for key, source in (spec.params.get("payload") or {}).items():
            expr = self.expression(source, f"{spec.pointer}/payload/{key}", f"payload {key!r}")
            if expr is not None:
                out[key] = expr
        return {"values": out}

    def template(self, text: str, ptr: str, what: str) -> Template:
        parts: list[str | Expression] = []
        pos = 0
        for n, m in enumerate(PLACEHOLDER.finditer(text), start=1):
            parts.append(text[pos : m.start()])
            expr = self.expression(m.group(1).strip(), ptr, f"{what}, placeholder {n}")
            parts.append(expr if expr is not None else "")
            pos = m.end()
        parts.append(text[pos:])
        return Template(tuple(p for p in parts if p != ""))


def run_actions(
    actions: tuple[CompiledAction, ...],
    activation: Activation,
    entity: EntityDefinition,
    record: Mapping[str, Any],
) -> tuple[dict[str, Any], tuple[Effect, ...]]:
    """Evaluate actions in order: the new field values (``setFields``, each seeing the record
    as the actions before it left it) and the effects of the others."""
    values: dict[str, Any] = {}
    effects: list[Effect] = []
    current = dict(record)
    for action in actions:
        if action.when is not None and action.when.evaluate(activation) is not True:
            continue
        kind = action.spec.type
        if kind == "setFields":
            changed = {}
            for name, expr in action.values.items():
                spec = entity.field(name)
                changed[name] = field_value(spec, expr.evaluate(activation), current.get(name))
            values.update(changed)
            current.update(values)
            # The actions after it see the record as it leaves it; its fields only converted.
            activation = activation.with_changes(entity, changed)
        elif kind == "createRecord":
            target = action.target
            data = {
                "entity": action.spec.params["entity"],
                "values": {
                    n: field_value(target.field(n), e.evaluate(activation))
                    if target is not None
                    else json_value(e.evaluate(activation))
                    for n, e in action.values.items()
                },
            }
            effects.append(Effect(kind, data, action.spec.pointer))
        elif kind == "notify":
            effects.append(Effect(kind, _notification(action, activation), action.spec.pointer))
        elif kind == "webhook":
            payload = {n: json_value(e.evaluate(activation)) for n, e in action.values.items()}
            data = {
                "url": action.spec.params["url"],
                "method": action.spec.params.get("method", "POST"),
                "payload": payload or None,
            }
            effects.append(Effect(kind, data, action.spec.pointer))
        else:
            data = {"params": thaw(action.spec.params.get("params") or {})}
            effects.append(Effect(kind, data, action.spec.pointer))
    return values, tuple(effects)


def _notification(action: CompiledAction, activation: Activation) -> dict[str, Any]:
    to = action.spec.params["to"]
    users: list[int] = []
    if action.users is not None:
        found = action.users.evaluate(activation)
        users = [u for u in (found if isinstance(found, list) else [found]) if isinstance(u, int)]
    if to.get("owner"):
        owner = (activation.variables.get("record") or {}).get("owner_id")
        if owner is not None:
            users.insert(0, owner)
    return {
        "users": list(dict.fromkeys(users)),
        "roles": list(to.get("roles", ())),
        **{k: t.render(activation) for k, t in action.templates.items()},
    }


def json_value(value: Any) -> Any:
    """A CEL result as JSON (timestamps as ISO 8601, durations as seconds)."""
    if isinstance(value, Mapping):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
