"""Helpers of the jobs tests: a platform that dispatches only when told, a real HTTP receiver
and a real SMTP server on 127.0.0.1, and the transports (inline, Celery on Redis, Celery on
RabbitMQ) that the delivery tests run against.

Brokers: ``XRM_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``) and
``XRM_TEST_AMQP_URL`` (default ``amqp://guest:guest@127.0.0.1:5672//``). An unreachable broker
skips its tests with the reason, or fails them when ``CI=true``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from xrm.core.jobs import Dispatcher
from xrm.core.tables import outbox

IN_CI = os.environ.get("CI", "").lower() == "true"
BROKERS = {
    "redis": os.environ.get("XRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    "amqp": os.environ.get("XRM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}
WEBHOOK_SECRET = "webhook-secret-for-tests"
#: Quick retries so tests see them within their deadlines.
FAST_RETRIES = {
    "JOBS": "worker",  # no thread in the app: tests dispatch explicitly
    "JOBS_BACKOFF_SECONDS": 0.05,
    "JOBS_BACKOFF_MAX": 0.2,
    "JOBS_MAX_ATTEMPTS": 3,
    "JOBS_POLL_SECONDS": 0.05,
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
}


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, step: Callable | None = None):
    """Poll ``predicate`` (after ``step``, if given) until it is truthy or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while True:
        if step is not None:
            step()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


def job_status(p, job_id: int) -> str:
    with p.engine.connect() as conn:
        return conn.execute(sa.select(outbox.c.status).where(outbox.c.id == job_id)).scalar_one()


def job_id_of(p, key: str) -> int:
    with p.engine.connect() as conn:
        return conn.execute(
            sa.select(outbox.c.id).where(outbox.c.idempotency_key == key)
        ).scalar_one()


_broker_problems: dict[str, str | None] = {}


def broker_problem(url: str) -> str | None:
    if url not in _broker_problems:
        from kombu import Connection

        try:
            with Connection(url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1, timeout=3)
            _broker_problems[url] = None
        except Exception as exc:
            _broker_problems[url] = f"{type(exc).__name__}: {exc}"
    return _broker_problems[url]


class Transport:
    """Drives delivery for a test: ``settle(job_id, statuses)`` pumps until the job is in one
    of ``statuses``."""

    def __init__(self, name: str, platform, pump: Dispatcher):
        self.name = name
        self.platform = platform
        self.pump = pump

    def step(self) -> None:
        self.pump.run_once()

    def settle(self, job_id: int, statuses=("done",), timeout: float = 20.0) -> str:
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        return wait_for(
            lambda: (s := job_status(self.platform, job_id)) in wanted and s,
            timeout,
            self.step,
        )


class Receiver:
    """An HTTP server on 127.0.0.1 that records requests and answers from a script."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict, bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": body,
                        }
                    )
                    status, headers, payload = (
                        receiver.script.pop(0) if receiver.script else (200, {}, b'{"ok":true}')
                    )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_PATCH = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.script.append((status, headers or {}, body))

    def json(self, i: int) -> dict:
        return json.loads(self.requests[i]["body"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"
