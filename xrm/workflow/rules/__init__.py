"""Rules of an entity: validation rules, computed fields, defaults and form rules."""

from .check import CompiledRuleSet, RulesInvalid, check_rules, order_computed, rules_findings
from .evaluate import (
    FormState,
    RuleOutcome,
    apply_defaults,
    apply_rules,
    compute,
    form_problems,
    form_state,
    validate,
)
from .model import ComputedField, DefaultRule, FormRule, RuleSet, ValidationRule, parse_rules

__all__ = [
    "CompiledRuleSet",
    "ComputedField",
    "DefaultRule",
    "FormRule",
    "FormState",
    "RuleOutcome",
    "RuleSet",
    "RulesInvalid",
    "ValidationRule",
    "apply_defaults",
    "apply_rules",
    "check_rules",
    "compute",
    "form_problems",
    "form_state",
    "order_computed",
    "parse_rules",
    "rules_findings",
    "validate",
]
