"""The workflow and rules runtime: the pure engine of :mod:`xrm.workflow`, stored, cached and
enforced in the platform (``platform.workflows``). See ``docs/workflows.md``."""

from __future__ import annotations

from .automations import fire_due_timers, run_automation, run_schedules
from .plugins import (
    install_plugin_documents,
    plugin_action_types,
    register_cel_functions,
    sync_plugin_documents,
)
from .service import NoWorkflow, StateWriteRefused, TransitionConflict, WorkflowService
from .writestep import WorkflowWrite


def create_workflow_service(registry, records, plugins=None, hooks=None) -> WorkflowService:
    """The service of one application: plugin action types registered, the record service's
    workflow step bound to it. ``hooks`` calls the transition hooks of the active plugins only
    (default: every loaded plugin)."""
    register_cel_functions(plugins)
    return WorkflowService(registry, records, plugins, plugin_action_types(plugins), hooks=hooks)


__all__ = [
    "NoWorkflow",
    "StateWriteRefused",
    "TransitionConflict",
    "WorkflowService",
    "WorkflowWrite",
    "create_workflow_service",
    "fire_due_timers",
    "install_plugin_documents",
    "plugin_action_types",
    "register_cel_functions",
    "run_automation",
    "run_schedules",
    "sync_plugin_documents",
]
