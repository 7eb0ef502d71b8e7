"""Celery transport: for deployments that outgrow one machine.

* The **relay** (``XRM_JOBS=celery``: the application's jobs thread, or ``xrm worker``) claims
  due outbox messages exactly as the in-process dispatcher does and publishes each as a task
  ``xrm.jobs.deliver(job_id, attempt)`` on ``XRM_CELERY_QUEUE`` of ``XRM_CELERY_BROKER``
  (Redis or RabbitMQ).
* **Celery workers** (``celery -A xrm.core.jobs.celery:app worker``) run the task: they renew
  the message's lease if that attempt still holds it, then deliver it with the same code as the
  in-process dispatcher (:func:`.execution.deliver`): same handlers, run log, outcomes.

Tasks are acknowledged late and re-queued when a worker is lost (``acks_late``,
``reject_on_worker_lost``), prefetch is one. A handler's failure is retried through the outbox
(``pending`` again with a backoff, re-published when due), so a retry survives a broker restart;
a worker that cannot reach the database retries the task itself with Celery's retry and the
same backoff. A stale task (its attempt was settled or claimed again meanwhile) does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Celery
from sqlalchemy.exc import DBAPIError

from . import store
from .config import JobConfig
from .dispatcher import Dispatcher
from .execution import Delivery, backoff_seconds, deliver
from .model import Job

log = logging.getLogger(__name__)

TASK = "xrm.jobs.deliver"
#: Seconds a claimed message waits before it is offered again when the broker refused it.
PUBLISH_RETRY_SECONDS = 5.0


def make_celery(config: JobConfig, platform_loader: Callable[[], Any] | None = None) -> Celery:
    """A Celery application for the jobs of ``config``. ``platform_loader`` returns the
    platform (with ``.jobs``) the workers deliver with; default: ``xrm.create_app()``'s."""
    app = Celery("xrm", broker=config.celery_broker, set_as_current=False)
    app.conf.update(
        task_default_queue=config.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        # Publishing gives up quickly: the relay gives the claim back and tries again later.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        worker_hijack_root_logger=False,
        # Redis re-delivers an unacknowledged task after this; keep it above the lease.
        broker_transport_options={"visibility_timeout": max(3600, int(config.lease_seconds * 2))},
    )
    app.xrm_config = config
    app.xrm_platform_loader = platform_loader or _create_platform
    app.xrm_platform = None
    app.task(name=TASK, bind=True, max_retries=None)(_deliver_task)
    return app


def bind_platform(app: Celery, platform: Any) -> None:
    """Deliver with this platform (tests, or a worker that built its app itself)."""
    app.xrm_platform = platform


def _create_platform() -> Any:
    from ... import create_app

    return create_app().extensions["xrm"]


def _platform(app: Celery) -> Any:
    if app.xrm_platform is None:
        app.xrm_platform = app.xrm_platform_loader()
    return app.xrm_platform


def _deliver_task(task, job_id: int, attempt: int) -> dict[str, Any]:
    platform = _platform(task.app)
    jobs = platform.jobs
    try:
        with platform.engine.begin() as conn:
            job = store.renew(
                conn,
                job_id,
                attempt,
                now=store.utcnow(),
                lease_seconds=jobs.config.lease_seconds,
            )
    except DBAPIError as exc:  # the database is away: Celery retries the task itself
        countdown = backoff_seconds(task.request.retries + 1, jobs.config)
        raise task.retry(exc=exc, countdown=countdown) from None
    if job is None:
        return {"job": job_id, "attempt": attempt, "outcome": "stale"}
    worker = f"celery:{task.request.hostname or 'worker'}"
    delivery = deliver(platform, jobs, job, worker=worker, transport="celery")
    return {"job": job_id, "attempt": attempt, "outcome": delivery.outcome}


class CeleryRelay(Dispatcher):
    """Claims due messages like the dispatcher, and publishes them to Celery instead of
    running them."""

    transport = "celery"

    def __init__(self, platform, jobs, name: str | None = None, celery: Celery | None = None):
        super().__init__(platform, jobs, name)
        self.celery = celery or make_celery(jobs.config)

    def handle(self, job: Job) -> Delivery | None:
        try:
            self.celery.send_task(
                TASK, args=[job.id, job.attempt], queue=self.jobs.config.celery_queue
            )
        except Exception as exc:  # broker away: give the claim back, attempt not counted
            log.warning("%s: cannot publish job %s: %s", self.name, job.id, exc)
            with self.platform.engine.begin() as conn:
                store.release(conn, job, now=store.utcnow(), delay_seconds=PUBLISH_RETRY_SECONDS)
            return None
        return Delivery(job.id, job.attempt, "published")


def __getattr__(name: str) -> Any:
    # ``celery -A xrm.core.jobs.celery:app worker``: the Celery app of the environment's config,
    # built on first use (importing this module connects to nothing).
    if name == "app":
        global app
        app = make_celery(JobConfig.load())
        return app
    raise AttributeError(name)
