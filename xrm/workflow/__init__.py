"""The workflow and rules engine: pure functions over definitions and records.

Nothing here touches Flask, the database or ``xrm.core``: definitions come in as JSON documents
(validated against ``schemas/workflow.schema.json``), records as dicts; results go out as values
to write, effects to queue, findings and problems to report.
"""

from .actions import ACTION_TYPES, ActionType, Effect
from .compiler import CompiledCache, CompiledWorkflow
from .errors import (
    FieldProblem,
    Finding,
    Reason,
    WorkflowError,
    WorkflowInvalid,
)
from .expressions import ExpressionError, compile_expression
from .metaschema import rules_metaschema, workflow_metaschema
from .model import WorkflowDefinition, parse_workflow
from .validation import check_workflow, workflow_findings

__all__ = [
    "ACTION_TYPES",
    "ActionType",
    "CompiledCache",
    "CompiledWorkflow",
    "Effect",
    "ExpressionError",
    "FieldProblem",
    "Finding",
    "Reason",
    "WorkflowDefinition",
    "WorkflowError",
    "WorkflowInvalid",
    "check_workflow",
    "compile_expression",
    "parse_workflow",
    "rules_metaschema",
    "workflow_findings",
    "workflow_metaschema",
]
