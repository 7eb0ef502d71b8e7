"""Validate and compile a rule set: references, expression types, and the order in which
computed fields are evaluated (a field computed from other computed fields comes after them;
a cycle is refused, naming every field on it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xrm.metadata.model import EntityDefinition, fingerprint
from xrm.metadata.names import SYSTEM_COLUMNS

from ..compiler import CompiledCache
from ..errors import Finding, WorkflowInvalid, error
from ..expressions import Expression, compile_expression
from ..expressions.types import BOOL, field_cel_type, standard_variables
from ..metaschema import rules_metaschema_validator
from ..schemacheck import schema_findings
from .model import ComputedField, DefaultRule, FormRule, RuleSet, ValidationRule, parse_rules


class RulesInvalid(WorkflowInvalid):
    title = "Invalid rule set"


@dataclass(frozen=True)
class CompiledValidation:
    rule: ValidationRule
    when: Expression | None
    expression: Expression


@dataclass(frozen=True)
class CompiledComputed:
    rule: ComputedField
    expression: Expression


@dataclass(frozen=True)
class CompiledDefault:
    rule: DefaultRule
    when: Expression | None
    expression: Expression


@dataclass(frozen=True)
class CompiledFormRule:
    rule: FormRule
    when: Expression


@dataclass(frozen=True)
class CompiledRuleSet:
    definition: RuleSet
    entity: EntityDefinition
    validations: tuple[CompiledValidation, ...]
    #: In evaluation order: every computed field after the computed fields it reads.
    computed: tuple[CompiledComputed, ...]
    defaults: tuple[CompiledDefault, ...]
    form_rules: tuple[CompiledFormRule, ...]

    @property
    def computed_fields(self) -> tuple[str, ...]:
        return tuple(c.rule.field for c in self.computed)


class _Compiler:
    def __init__(self, entity: EntityDefinition):
        self.entity = entity
        self.variables = standard_variables(entity)
        self.findings: list[Finding] = []

    def expr(
        self, source: str, ptr: str, what: str, expect=BOOL, target: str = ""
    ) -> Expression | None:
        compiled, problems = compile_expression(source, self.variables, expect, target)
        self.findings.extend(error(ptr, f"{what}: {p}") for p in problems)
        return compiled

    def field(self, name: str | None, ptr: str, writable: bool = False) -> bool:
        if name is None:
            return True
        f = self.entity.field(name)
        if f is None:
            self.findings.append(error(ptr, f"{self.entity.name} has no field {name!r}"))
            return False
        if writable and (
            name in SYSTEM_COLUMNS or f.type == "autonumber" or f.type == "manytomany"
        ):
            self.findings.append(
                error(ptr, f"{f.type} field {name!r} cannot be computed or defaulted")
            )
            return False
        return True

    def unique(self, items, key, what: str) -> None:
        seen: set[str] = set()
        for item in items:
            k = key(item)
            if k in seen:
                self.findings.append(error(item.pointer, f"{what} {k!r} is declared twice"))
            seen.add(k)


def compile_rule_parts(
    rules: RuleSet, entity: EntityDefinition
) -> tuple[CompiledRuleSet, list[Finding]]:
    c = _Compiler(entity)
    if rules.entity != entity.name:
        c.findings.append(
            error(
                "/entity", f"the rule set is for {rules.entity!r}, checked against {entity.name!r}"
            )
        )
    c.unique(rules.validations, lambda r: r.name, "validation rule")
    c.unique(rules.computed, lambda r: r.field, "computed field")
    c.unique(rules.form_rules, lambda r: r.name, "form rule")
    validations = []
    for r in rules.validations:
        c.field(r.field, f"{r.pointer}/field")
        when = (
            c.expr(r.when, f"{r.pointer}/when", f"condition of rule {r.name!r}") if r.when else None
        )
        expr = c.expr(r.expression, f"{r.pointer}/expression", f"rule {r.name!r}")
        if expr is not None:
            validations.append(CompiledValidation(r, when, expr))
    computed = []
    for r in rules.computed:
        if c.field(r.field, f"{r.pointer}/field", writable=True):
            expect = field_cel_type(entity.field(r.field))
            expr = c.expr(
                r.expression,
                f"{r.pointer}/expression",
                f"formula of {r.field!r}",
                expect,
                f"field {r.field!r}",
            )
            if expr is not None:
                computed.append(CompiledComputed(r, expr))
    names = {r.field for r in rules.computed}
    defaults = []
    for r in rules.defaults:
        if r.field in names:
            c.findings.append(
                error(
                    f"{r.pointer}/field", f"{r.field!r} is computed; a default would be overwritten"
                )
            )
        elif c.field(r.field, f"{r.pointer}/field", writable=True):
            expect = field_cel_type(entity.field(r.field))
            when = (
                c.expr(r.when, f"{r.pointer}/when", f"condition of the default of {r.field!r}")
                if r.when
                else None
            )
            expr = c.expr(
                r.expression,
                f"{r.pointer}/expression",
                f"default of {r.field!r}",
                expect,
                f"field {r.field!r}",
            )
            if expr is not None:
                defaults.append(CompiledDefault(r, when, expr))
    form_rules = []
    for r in rules.form_rules:
        for key, names_ in (
            ("show", r.show),
            ("hide", r.hide),
            ("require", r.require),
            ("readOnly", r.read_only),
        ):
            for i, n in enumerate(names_):
                c.field(n, f"{r.pointer}/{key}/{i}")
        for n in sorted(set(r.show) & set(r.hide)):
            c.findings.append(error(r.pointer, f"form rule {r.name!r} both shows and hides {n!r}"))
        when = c.expr(r.when, f"{r.pointer}/when", f"form rule {r.name!r}")
        if when is not None:
            form_rules.append(CompiledFormRule(r, when))
    ordered, cycle = order_computed(computed)
    c.findings += cycle
    return CompiledRuleSet(
        rules, entity, tuple(validations), tuple(ordered), tuple(defaults), tuple(form_rules)
    ), c.findings


def order_computed(
    computed: list[CompiledComputed],
) -> tuple[list[CompiledComputed], list[Finding]]:
    """Topological order of computed fields (declaration order among independent ones); a
    cycle is an error at the first field on it, naming the whole cycle."""
    by_field = {c.rule.field: c for c in computed}
    deps = {f: sorted(c.expression.fields & set(by_field) - {f}) for f, c in by_field.items()}
    out: list[CompiledComputed] = []
    state: dict[str, str] = {}  # visiting | done
    findings: list[Finding] = []

    def visit(f: str, path: list[str]) -> None:
        if state.get(f) == "done":
            return
        if state.get(f) == "visiting":
            cycle = [*path[path.index(f) :], f]
            first = by_field[cycle[0]]
            msg = f"computed fields form a cycle: {' -> '.join(cycle)}"
            if not any(x.message == msg for x in findings):
                findings.append(error(first.rule.pointer, msg))
            return
        state[f] = "visiting"
        for d in deps[f]:
            visit(d, [*path, f])
        state[f] = "done"
        out.append(by_field[f])

    for c in computed:
        visit(c.rule.field, [])
    for f, c in by_field.items():  # the shortest cycle: a formula reading its own field
        if f in c.expression.fields:
            findings.append(error(c.rule.pointer, f"computed fields form a cycle: {f} -> {f}"))
    return out, findings


def rules_findings(
    doc: Any, entity: EntityDefinition
) -> tuple[list[Finding], CompiledRuleSet | None]:
    findings = schema_findings(rules_metaschema_validator(), doc)
    if findings:
        return findings, None
    compiled, problems = compile_rule_parts(parse_rules(doc), entity)
    return problems, compiled


def check_rules(
    doc: Any, entity: EntityDefinition, cache: CompiledCache | None = None
) -> CompiledRuleSet:
    """Validate a rule set document completely and return it compiled, or raise
    :class:`RulesInvalid` with every error."""

    def build() -> CompiledRuleSet:
        findings, compiled = rules_findings(doc, entity)
        errors = [f for f in findings if f.is_error]
        if errors or compiled is None:
            name = doc.get("name") if isinstance(doc, Mapping) else None
            raise RulesInvalid(
                f"rule set {name!r}" if isinstance(name, str) else "rule set", errors
            )
        return compiled

    if cache is None:
        return build()
    return cache.get(("rules", fingerprint(doc), entity.fingerprint), build)
