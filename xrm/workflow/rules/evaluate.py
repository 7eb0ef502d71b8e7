"""Evaluate a compiled rule set against a record: defaults, computed fields, validation rules
and form rules. Pure: the record service calls :func:`apply_rules` in its write path (defaults
-> computed -> validation, in that order) and the form renderer calls :func:`form_state`.

Empty values follow SQL's ``CHECK`` semantics: a validation rule or computed field whose
expression cannot be evaluated because a field it reads is empty does not fail the record (the
rule passes, the computed field becomes empty); making a field mandatory is what ``required`` is
for. Any other failure (a division by zero) is reported. Workflow guards are stricter: a guard
that cannot be evaluated keeps its transition closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import FieldProblem
from ..expressions import Activation, Expression, ExpressionError
from ..expressions.values import ResultError, cel_value, field_value
from .check import CompiledRuleSet

_SKIP = object()


@dataclass(frozen=True)
class RuleOutcome:
    """Values the rules set (defaults and computed fields) and the problems they found."""

    values: dict[str, Any]
    problems: list[FieldProblem]


@dataclass(frozen=True)
class FormState:
    """How a form shows a record now: hidden, required and read-only fields."""

    hidden: frozenset[str]
    required: frozenset[str]
    read_only: frozenset[str]

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "hidden": sorted(self.hidden),
            "required": sorted(self.required),
            "readOnly": sorted(self.read_only),
        }


def _activation(rs: CompiledRuleSet, record, user_id, roles, now) -> Activation:
    return Activation.for_record(rs.entity, record, user_id=user_id, roles=tuple(roles), now=now)


def _empty_inputs(expr: Expression, activation: Activation) -> bool:
    record = activation.variables.get("record") or {}
    return any(record.get(f) is None for f in expr.fields)


def _holds(expr: Expression | None, activation: Activation) -> bool:
    """A condition; one that cannot be evaluated does not hold."""
    if expr is None:
        return True
    try:
        return expr.evaluate(activation) is True
    except ExpressionError:
        return False


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def apply_defaults(
    rs: CompiledRuleSet,
    record: Mapping[str, Any],
    *,
    user_id: int | None = None,
    roles: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> RuleOutcome:
    """Values for the fields of a new record that have none, in declaration order (a default
    sees the defaults before it)."""
    current, values, problems = dict(record), {}, []
    activation = _activation(rs, current, user_id, roles, now)
    for d in rs.defaults:
        name = d.rule.field
        if not _is_empty(current.get(name)) or not _holds(d.when, activation):
            continue
        value = _value(rs, d.expression, name, activation, current, problems, d.rule.pointer)
        if value is _SKIP:
            continue
        values[name] = current[name] = value
        activation = activation.with_record(rs.entity, current)
    return RuleOutcome(values, problems)


def compute(
    rs: CompiledRuleSet,
    record: Mapping[str, Any],
    *,
    user_id: int | None = None,
    roles: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> RuleOutcome:
    """The computed fields' values, in dependency order (each formula sees the ones before)."""
    current, values, problems = dict(record), {}, []
    activation = _activation(rs, current, user_id, roles, now)
    for c in rs.computed:
        name = c.rule.field
        value = _value(rs, c.expression, name, activation, current, problems, c.rule.pointer)
        if value is _SKIP:
            continue
        values[name] = current[name] = value
        activation = activation.with_record(rs.entity, current)
    return RuleOutcome(values, problems)


def _value(rs, expr: Expression, name: str, activation, current, problems, rule: str) -> Any:
    try:
        result = expr.evaluate(activation)
    except ExpressionError as exc:
        if _empty_inputs(expr, activation):
            return None
        problems.append(FieldProblem(name, f"cannot be computed: {exc.message}", rule))
        return _SKIP
    try:
        return field_value(rs.entity.field(name), result, current.get(name))
    except ResultError as exc:
        problems.append(FieldProblem(name, f"cannot be computed: {exc}", rule))
        return _SKIP


def validate(
    rs: CompiledRuleSet,
    record: Mapping[str, Any],
    *,
    user_id: int | None = None,
    roles: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> list[FieldProblem]:
    """The validation rules ``record`` breaks, each as a problem on the rule's field."""
    activation = _activation(rs, record, user_id, roles, now)
    problems = []
    for v in rs.validations:
        rule = v.rule
        if not _holds(v.when, activation):
            continue
        try:
            ok = v.expression.evaluate(activation)
        except ExpressionError as exc:
            if _empty_inputs(v.expression, activation):
                continue
            problems.append(
                FieldProblem(
                    rule.field,
                    f"{rule.message} (the rule cannot be checked: {exc.message})",
                    rule.name,
                )
            )
            continue
        if ok is not True:
            problems.append(FieldProblem(rule.field, rule.message, rule.name))
    return problems


def form_state(
    rs: CompiledRuleSet | None,
    record: Mapping[str, Any],
    *,
    workflow: Any = None,
    user_id: int | None = None,
    roles: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> FormState:
    """Hidden, required and read-only fields for ``record`` now: the entity's own flags, the
    current workflow state's ``required``/``readOnly`` (when ``workflow`` is given) and the
    form rules whose condition holds."""
    entity = rs.entity if rs is not None else workflow.entity
    hidden: set[str] = set()
    required = {f.name for f in entity.fields if f.required}
    read_only = {f.name for f in entity.fields if f.readonly}
    if workflow is not None:
        state = workflow.definition.state(record.get(workflow.state_field))
        read_only.add(workflow.state_field)  # changed by transitions only
        if state is not None:
            required |= set(state.required)
            read_only |= set(state.read_only)
    if rs is not None:
        activation = _activation(rs, record, user_id, roles, now)
        for fr in rs.form_rules:
            rule = fr.rule
            if _holds(fr.when, activation):
                hidden |= set(rule.hide)
                required |= set(rule.require)
                read_only |= set(rule.read_only)
            else:
                hidden |= set(rule.show)
    return FormState(frozenset(hidden), frozenset(required), frozenset(read_only))


def form_problems(
    rs: CompiledRuleSet,
    record: Mapping[str, Any],
    before: Mapping[str, Any] | None = None,
    *,
    user_id: int | None = None,
    roles: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> list[FieldProblem]:
    """Form rules enforced on save: fields required under a condition that holds for the new
    values must be filled; fields read-only under a condition that holds for the stored record
    (``before``) must keep their value. Hiding is presentation only, never enforced."""
    problems = []
    after = _activation(rs, record, user_id, roles, now)
    prior = _activation(rs, before, user_id, roles, now) if before is not None else None
    for fr in rs.form_rules:
        rule = fr.rule
        if rule.require and _holds(fr.when, after):
            for f in rule.require:
                if _is_empty(record.get(f)):
                    problems.append(FieldProblem(f, "is required", rule.name))
        if rule.read_only and prior is not None and _holds(fr.when, prior):
            for f in rule.read_only:
                spec = rs.entity.field(f)
                if f in record and cel_value(spec.type, record[f]) != cel_value(
                    spec.type, before.get(f)
                ):
                    problems.append(FieldProblem(f, "cannot be changed now", rule.name))
    return problems


def apply_rules(
    rs: CompiledRuleSet,
    record: Mapping[str, Any],
    *,
    before: Mapping[str, Any] | None = None,
    creating: bool = False,
    user_id: int | None = None,
    roles: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> RuleOutcome:
    """The rules step of the write path for the full record after the change: defaults (when
    ``creating``), then computed fields, then validation and form rules on the result."""
    ctx = {"user_id": user_id, "roles": tuple(roles), "now": now}
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    current = dict(record)
    if creating:
        d = apply_defaults(rs, current, **ctx)
        values.update(d.values)
        problems += d.problems
        current.update(d.values)
    c = compute(rs, current, **ctx)
    values.update(c.values)
    problems += c.problems
    current.update(c.values)
    problems += validate(rs, current, **ctx)
    problems += form_problems(rs, current, before, **ctx)
    return RuleOutcome(values, problems)
