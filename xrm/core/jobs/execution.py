"""Delivering one claimed message: run its handler, log the run, settle the message.

Shared by the in-process dispatcher and the Celery task, so both transports behave the same:
the same handlers, the same retries (exponential backoff with jitter, then the dead letters),
the same run log.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import traceback
from dataclasses import dataclass
from typing import Any

from . import store
from .config import JobConfig
from .errors import PermanentError, RetryableError
from .model import Job, JobContext, PlatformParts
from .registry import JobRegistry

log = logging.getLogger(__name__)

#: Longest error text kept per run (tracebacks are cut from the top).
ERROR_LIMIT = 8000


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt."""

    job_id: int
    attempt: int
    outcome: str  # done | retry | dead | skipped | lost
    error: str | None = None
    retry_at: dt.datetime | None = None


def backoff_seconds(attempt: int, config: JobConfig, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempt + 1``: base * 2^(attempt-1), capped, with jitter
    (between half and all of it, so retries of many messages spread out)."""
    rng = rng or random
    ceiling = min(config.backoff_max, config.backoff_seconds * (2 ** max(0, attempt - 1)))
    return ceiling * (0.5 + rng.random() / 2)


def deliver(
    platform: PlatformParts,
    jobs: JobRegistry,
    job: Job,
    *,
    worker: str,
    transport: str,
) -> Delivery:
    """Run the handler of the claimed ``job`` and settle it (fenced by its attempt)."""
    config = jobs.config
    engine = platform.engine
    now = store.utcnow()
    handler = jobs.resolve(job.topic)
    if handler is None:
        with engine.begin() as conn:
            store.settle(conn, job, "skipped", now=now, error="no handler for this topic")
        return Delivery(job.id, job.attempt, "skipped", "no handler for this topic")

    with engine.begin() as conn:
        run_id = store.start_run(conn, job, worker=worker, transport=transport, now=now)
    ctx = JobContext(
        engine=engine,
        registry=platform.registry,
        records=platform.records,
        plugins=platform.plugins,
        settings=platform.settings,
        config=config,
        now=now,
        job=job,
    )
    outcome, error, summary, retry_at = "done", None, None, None
    if job.attempt > config.max_attempts:
        # The worker of the last attempt died before it could settle the message.
        outcome = "dead"
        error = summary = (
            f"no attempts left ({config.max_attempts}); the last worker stopped mid-way"
        )
    else:
        try:
            result = handler(ctx, job)
            if result is not None:
                ctx.step("result", result=_json_ready(result))
        except PermanentError as exc:
            outcome, error, summary = "dead", _describe(exc), _summary(exc)
        except Exception as exc:  # any other failure is worth another try
            error, summary = _describe(exc), _summary(exc)
            if isinstance(exc, RetryableError) and exc.retry_after is not None:
                delay = min(float(exc.retry_after), config.backoff_max)
            else:
                delay = backoff_seconds(job.attempt, config)
            if job.attempt >= config.max_attempts:
                outcome = "dead"
                summary = f"{summary} (gave up after {job.attempt} attempts)"
            else:
                outcome = "retry"
                retry_at = store.utcnow() + dt.timedelta(seconds=delay)
                ctx.step(f"retry in {delay:.1f}s", attempt=job.attempt)
            if not isinstance(exc, RetryableError):
                log.warning("job %s (%s) attempt %s failed", job.id, job.topic, job.attempt)
    finished = store.utcnow()
    status = {"done": "done", "dead": "dead", "retry": "pending"}[outcome]
    with engine.begin() as conn:
        held = store.settle(conn, job, status, now=finished, error=summary, available_at=retry_at)
        if not held:
            ctx.step("the lease ran out and the message was claimed again; not settled")
            outcome = "lost"
        store.finish_run(conn, run_id, outcome=outcome, now=finished, error=error, steps=ctx.steps)
    return Delivery(job.id, job.attempt, outcome, error, retry_at)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RetryableError | PermanentError):
        text = f"{type(exc).__name__}: {exc}"
    else:
        text = "".join(traceback.format_exception(exc)).strip()
    return text[-ERROR_LIMIT:]


def _summary(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)
