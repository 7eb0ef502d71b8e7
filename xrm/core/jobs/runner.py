"""A running dispatch loop: threads that deliver (or relay to Celery) what is due, and tick the
periodic scheduler. Used by the application (``XRM_JOBS=inline``: a daemon thread in each app
process) and by ``xrm worker``."""

from __future__ import annotations

import logging
import threading
import time

from .dispatcher import Dispatcher, worker_name
from .model import PlatformParts
from .registry import JobRegistry
from .scheduler import Scheduler

log = logging.getLogger(__name__)

#: Seconds between two scheduler ticks of one runner.
TICK_SECONDS = 1.0


class JobRunner:
    def __init__(
        self,
        platform: PlatformParts,
        jobs: JobRegistry,
        *,
        threads: int = 1,
        relay: bool | None = None,
        schedule: bool = True,
        kind: str = "dispatcher",
    ):
        self.platform = platform
        self.jobs = jobs
        self.threads = max(1, threads)
        self.relay = jobs.config.mode == "celery" if relay is None else relay
        self.schedule = schedule
        self.kind = kind
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def pump(self, index: int) -> Dispatcher:
        name = worker_name(f"{self.kind}-{index}")
        if self.relay:
            from .celery import CeleryRelay

            return CeleryRelay(self.platform, self.jobs, name=name)
        return Dispatcher(self.platform, self.jobs, name=name)

    def _run(self, index: int) -> None:
        pump = self.pump(index)
        on_idle = None
        if index == 0 and self.schedule and self.jobs.periodics:
            scheduler = Scheduler(self.platform, self.jobs, pump.name)
            last = [0.0]

            def on_idle() -> None:
                if time.monotonic() - last[0] >= TICK_SECONDS:
                    last[0] = time.monotonic()
                    scheduler.tick()

        log.info("%s started (%s)", pump.name, "relay to Celery" if self.relay else "delivery")
        pump.serve(self.stopping, on_idle)
        log.info("%s stopped", pump.name)

    def start(self) -> JobRunner:
        for i in range(self.threads):
            t = threading.Thread(target=self._run, args=(i,), name=f"xrm-jobs-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the threads to stop after their current message; True when all did in time."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)
