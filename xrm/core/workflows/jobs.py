"""The workflow runtime's work for the job system (``platform.jobs``): async automations
(topic ``automation.run``), workflow timers and scheduled automations (periodic)."""

from __future__ import annotations

from typing import Any

from .automations import fire_due_timers, run_automation, run_schedules

#: Seconds between two looks for due timers and schedules (cron has minute resolution).
EVERY_SECONDS = 60


def register_workflow_jobs(jobs: Any, platform: Any, periodic: bool = True) -> None:
    """Register the handlers on ``jobs`` (an :class:`xrm.core.jobs.JobRegistry`); each runs in
    a transaction of its own, so a failure rolls its work back and the job system retries it.
    ``periodic``: also the periodic jobs (timers, schedules)."""

    @jobs.handler("automation.run")
    def _automation(ctx, job):
        with ctx.engine.begin() as conn:
            out = run_automation(conn, platform, job.payload)
        ctx.step(f"automation {job.payload.get('automation')!r}: {out.get('status')}")
        return {"status": out.get("status"), "steps": out.get("steps")}

    if periodic:
        _register_periodic(jobs, platform)


def _register_periodic(jobs: Any, platform: Any) -> None:

    @jobs.periodic("workflow.timers", every_seconds=EVERY_SECONDS)
    def _timers(ctx, job):
        with ctx.engine.begin() as conn:
            return {"fired": fire_due_timers(conn, platform, ctx.now)}

    @jobs.periodic("workflow.schedules", every_seconds=EVERY_SECONDS)
    def _schedules(ctx, job):
        with ctx.engine.begin() as conn:
            return {"runs": run_schedules(conn, platform, ctx.now)}
