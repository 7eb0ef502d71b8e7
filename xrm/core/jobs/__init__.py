"""Jobs: delivery of outbox messages (the transactional outbox, written in the same transaction
as the change) by topic to registered handlers, in this process or on Celery workers, with
retries, dead letters, a run log and periodic jobs. See ``docs/jobs.md``.

Knows nothing of Flask except :mod:`.integration`, the thin part the application factory calls.
"""

from __future__ import annotations

from .actions import register_actions
from .config import JobConfig
from .dispatcher import Dispatcher
from .errors import JobConfigError, JobNotFound, JobStateConflict, PermanentError, RetryableError
from .execution import Delivery, deliver
from .model import Job, JobContext, Periodic
from .registry import JobRegistry
from .scheduler import Scheduler
from .store import enqueue


def create_job_registry(config: JobConfig | None = None) -> JobRegistry:
    """A registry with the built-in action handlers."""
    jobs = JobRegistry(config)
    register_actions(jobs)
    return jobs


__all__ = [
    "Delivery",
    "Dispatcher",
    "Job",
    "JobConfig",
    "JobConfigError",
    "JobContext",
    "JobNotFound",
    "JobRegistry",
    "JobStateConflict",
    "Periodic",
    "PermanentError",
    "RetryableError",
    "Scheduler",
    "create_job_registry",
    "deliver",
    "enqueue",
]
