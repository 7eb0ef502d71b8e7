"""``action.<name>``: run an action type a plugin registered (hook ``xrm_action_types``).

Payload::

    {"params": {...},           # the action's parameters from the workflow or automation
     "record": {...} | null}    # the record as the action saw it; null: read it now

The item's ``run(context, params, record)`` is called with the :class:`JobContext` (engine,
record service, settings, the job and its ``step()`` log). It may raise ``RetryableError`` or
``PermanentError`` from :mod:`xrm.core.jobs`; any other exception is retried.
Action types are looked up when the message is delivered, so an action whose plugin was
removed since goes to the dead letters with a clear message.
"""

from __future__ import annotations

from typing import Any

from ....metadata.errors import UnknownEntity
from ...context import SYSTEM
from ...plugins import plugin_contributions
from ...records.errors import RecordNotFound
from ..errors import PermanentError
from ..model import Job, JobContext

PREFIX = "action."


def find_action_type(ctx: JobContext, name: str) -> tuple[str, dict[str, Any]] | None:
    for plugin, item in plugin_contributions(ctx.plugins, "xrm_action_types"):
        if isinstance(item, dict) and item.get("name") == name:
            return plugin, item
    return None


def plugin_action(ctx: JobContext, job: Job) -> Any:
    name = job.topic[len(PREFIX) :]
    found = find_action_type(ctx, name)
    if found is None:
        raise PermanentError(f"no plugin provides the action type {name!r}")
    plugin, item = found
    run = item.get("run")
    if not callable(run):
        raise PermanentError(f"action type {name!r} of plugin {plugin!r} has no callable 'run'")
    params = job.payload.get("params") or {}
    record = job.payload.get("record")
    if record is None and job.entity and job.record_id is not None:
        record = current_record(ctx, job)
    ctx.step(f"run {name} (plugin {plugin})")
    return run(ctx, params, record)


def current_record(ctx: JobContext, job: Job) -> dict[str, Any] | None:
    """The message's record as stored now (None, logged, when it is gone)."""
    try:
        with ctx.engine.connect() as conn:
            return ctx.records.get(conn, SYSTEM, job.entity, job.record_id)
    except (RecordNotFound, UnknownEntity):
        ctx.step(f"{job.entity} {job.record_id} no longer exists")
        return None
