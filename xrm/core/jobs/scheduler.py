"""Periodic jobs: each registered periodic job runs once per slot of ``every_seconds`` (slot
``n`` covers ``[n * every, (n + 1) * every)`` since the epoch), however many workers tick.

A worker that sees a new slot takes the job's lease row (``xrm_job_schedule``) with a
conditional update, ``SET slot = :n WHERE name = :name AND slot < :n``; only the one whose
update hit the row enqueues the run, as an outbox message with the idempotency key
``periodic:<name>:<slot>`` (a second guard). The run is then delivered like any message:
retried, logged, visible to administrators, and spread over Celery workers in celery mode.
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..tables import job_schedule
from . import store
from .model import PlatformParts
from .registry import JobRegistry


class Scheduler:
    def __init__(self, platform: PlatformParts, jobs: JobRegistry, name: str):
        self.platform = platform
        self.jobs = jobs
        self.name = name

    def tick(self, now: dt.datetime | None = None) -> list[str]:
        """Enqueue the periodic jobs whose current slot has not started; returns their keys."""
        now = now or store.utcnow()
        epoch = calendar.timegm(now.timetuple())
        started = []
        for periodic in self.jobs.periodics.values():
            slot = epoch // periodic.every_seconds
            if self._take(periodic.name, periodic.every_seconds, slot, now):
                key = f"periodic:{periodic.name}:{slot}"
                with self.platform.engine.begin() as conn:
                    store.enqueue(
                        conn,
                        periodic.topic,
                        key,
                        {
                            "name": periodic.name,
                            "slot": slot,
                            "every_seconds": periodic.every_seconds,
                        },
                        now=now,
                    )
                started.append(key)
        return started

    def _take(self, name: str, every: int, slot: int, now: dt.datetime) -> bool:
        t = job_schedule
        values = {
            "slot": slot,
            "started_at": now,
            "worker": self.name[:120],
            "every_seconds": every,
        }
        with self.platform.engine.begin() as conn:
            res = conn.execute(t.update().where(t.c.name == name, t.c.slot < slot).values(**values))
            if res.rowcount == 1:
                return True
            if conn.execute(sa.select(t.c.slot).where(t.c.name == name)).first() is not None:
                return False
        try:  # first run ever of this job: whoever inserts the row takes the slot
            with self.platform.engine.begin() as conn:
                conn.execute(t.insert().values(name=name, **values))
            return True
        except IntegrityError:
            return False
