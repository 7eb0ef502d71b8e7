"""Dispatchers: take due messages from the outbox and deliver them (in this process) or hand
them to Celery (the relay). Any number of them may run at once, in threads, processes or on
other hosts: claims never overlap (see :mod:`.store`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from . import store
from .execution import Delivery, deliver
from .model import Job, PlatformParts
from .registry import JobRegistry

log = logging.getLogger(__name__)


def worker_name(kind: str = "dispatcher") -> str:
    """``host:pid:kind:<random>``, shown in the run log."""
    return f"{socket.gethostname()}:{os.getpid()}:{kind}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    """Claims due messages and runs their handlers here."""

    transport = "inline"

    def __init__(self, platform: PlatformParts, jobs: JobRegistry, name: str | None = None):
        self.platform = platform
        self.jobs = jobs
        self.name = name or worker_name()

    def sweep(self) -> int:
        """Mark pending messages of topics without a handler as skipped."""
        exact = [t for t in self.jobs.topics() if not t.endswith("*")]
        prefixes = [t[:-1] for t in self.jobs.topics() if t.endswith("*")]
        with self.platform.engine.begin() as conn:
            return store.skip_unhandled(conn, exact, prefixes, now=store.utcnow())

    def claim(self, limit: int | None = None) -> list[Job]:
        config = self.jobs.config
        with self.platform.engine.begin() as conn:
            return store.claim(
                conn,
                limit=limit or config.batch,
                now=store.utcnow(),
                lease_seconds=config.lease_seconds,
            )

    def handle(self, job: Job) -> Delivery | None:
        return deliver(self.platform, self.jobs, job, worker=self.name, transport=self.transport)

    def run_once(self, limit: int | None = None) -> list[Delivery | None]:
        """One round: sweep, claim a batch, deliver it. Returns what happened to each."""
        self.sweep()
        return [self.handle(job) for job in self.claim(limit)]

    def drain(self, timeout: float = 30.0) -> list[Delivery | None]:
        """Rounds until nothing is due (or ``timeout`` seconds passed): for tests and
        ``xrm worker --once``."""
        deadline = time.monotonic() + timeout
        out: list[Delivery | None] = []
        while time.monotonic() < deadline:
            done = self.run_once()
            if not done:
                break
            out.extend(done)
        return out

    def serve(self, stop: threading.Event, on_idle: Callable[[], None] | None = None) -> None:
        """Deliver until ``stop`` is set; between empty rounds wait ``poll_seconds``."""
        poll = self.jobs.config.poll_seconds
        while not stop.is_set():
            try:
                busy = bool(self.run_once())
            except Exception:  # the database may be away for a moment: log, wait, go on
                log.exception("%s: dispatch round failed", self.name)
                busy = False
            if on_idle is not None:
                try:
                    on_idle()
                except Exception:
                    log.exception("%s: scheduler tick failed", self.name)
            if not busy:
                stop.wait(poll)
