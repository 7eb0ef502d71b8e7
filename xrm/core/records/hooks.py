"""What a write calls out to besides its own steps: plugin hooks and the workflow and rules step.

The record service holds both: ``RecordService.hooks`` (the plugin manager's hook caller, or
None) and ``RecordService.rules`` (:class:`xrm.core.workflows.writestep.RecordRules`, or
:class:`NoRules` for a bare record service). The write steps call hooks through
:func:`run_hook`, and ask :func:`rules_apply` and :func:`side_effects` whether either can do
anything for an entity's records: that decides whether the rules step runs for a batch and
whether a batch of updates may be written set-based.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ..plugins.concerns import hooked
from .events import RecordEvent


class NoRules:
    """The write path without a workflow service (bare record services in tools and tests)."""

    def before_create(self, *args, **kwargs) -> None:
        pass

    before_update = after_write = after_delete = after_restore = state_move = before_create


def run_hook(hooks: Any, name: str, event: RecordEvent) -> None:
    """Call the plugin hook ``name`` (``xrm_before_create``, ...) with ``event``; nothing
    without a plugin manager."""
    if hooks is not None:
        getattr(hooks, name)(event=event)


def rules_apply(
    rules: Any, conn: sa.Connection, snap: MetadataSnapshot, ce: CompiledEntity
) -> bool:
    """Whether the workflow and rules step can do anything for records of ``ce``: some
    workflow, rule set, roll-up or automation concerns it (the step's own first test)."""
    catalog = getattr(rules, "catalog", None)
    if catalog is None:
        return not isinstance(rules, NoRules)
    return catalog(conn, snap).touches(ce.name)


def side_effects(
    hooks: Any, rules: Any, conn: sa.Connection, snap: MetadataSnapshot, ce: CompiledEntity
) -> bool:
    """Whether updating a record of ``ce`` can write other records meanwhile: the workflow and
    rules step concerns it, or plugin update hooks do."""
    if rules_apply(rules, conn, snap, ce):
        return True
    # Plugin update hooks that concern the entity (or do not say which they concern,
    # plugins.concerns) may write other records.
    return hooked(hooks, "xrm_before_update", ce.name) or hooked(hooks, "xrm_after_update", ce.name)
