"""The workflow and rules engine: pure functions over definitions and records.

Nothing here touches Flask, the database or ``xrm.core``: definitions come in as JSON documents
(validated against ``schemas/workflow.schema.json`` and ``schemas/rules.schema.json``), records
as dicts, actors as ``(user_id, roles)``; results go out as values to write, effects to queue,
findings and problems to report. See ``docs/workflows.md``.
"""

from .actions import ACTION_TYPES, ActionType, Effect
from .approvals import Approval, approve, missing_approvals
from .compiler import CompiledCache, CompiledWorkflow
from .engine import (
    SYSTEM,
    Actor,
    Firing,
    TransitionInput,
    TransitionOption,
    available_transitions,
    fire,
    initial_values,
    update_problems,
)
from .errors import (
    ApprovalRefused,
    FieldProblem,
    Finding,
    Reason,
    StateMappingRequired,
    TransitionRefused,
    UnknownTransition,
    WorkflowError,
    WorkflowInvalid,
)
from .expressions import ExpressionError, compile_expression
from .metaschema import rules_metaschema, workflow_metaschema
from .migration import StateDiff, diff_states, mapping_findings, state_mapping
from .model import WorkflowDefinition, parse_workflow
from .timers import DueTimer, due_timers, fire_timer, next_due, parse_duration, timer_due
from .validation import check_workflow, workflow_findings
from .verify import verify

__all__ = [
    "ACTION_TYPES",
    "SYSTEM",
    "ActionType",
    "Actor",
    "Approval",
    "ApprovalRefused",
    "CompiledCache",
    "CompiledWorkflow",
    "DueTimer",
    "Effect",
    "ExpressionError",
    "FieldProblem",
    "Finding",
    "Firing",
    "Reason",
    "StateDiff",
    "StateMappingRequired",
    "TransitionInput",
    "TransitionOption",
    "TransitionRefused",
    "UnknownTransition",
    "WorkflowDefinition",
    "WorkflowError",
    "WorkflowInvalid",
    "approve",
    "available_transitions",
    "check_workflow",
    "compile_expression",
    "diff_states",
    "due_timers",
    "fire",
    "fire_timer",
    "initial_values",
    "mapping_findings",
    "missing_approvals",
    "next_due",
    "parse_duration",
    "parse_workflow",
    "rules_metaschema",
    "state_mapping",
    "timer_due",
    "update_problems",
    "verify",
    "workflow_findings",
    "workflow_metaschema",
]
