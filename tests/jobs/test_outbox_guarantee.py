"""Nothing is lost between commit and dispatch: a process commits a record change with its
outbox message and is killed before any dispatch; a worker started afterwards delivers it.
Also: ``xrm worker`` stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from jobs_support import WEBHOOK_SECRET, wait_for

from xrm.core.tables import outbox

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent(
    """
    import sys, time
    from xrm import create_app
    from xrm.core.context import SYSTEM
    from xrm.core.jobs import enqueue

    app = create_app()
    p = app.extensions["xrm"]
    with p.engine.begin() as conn:
        rec = p.records.create(conn, SYSTEM, "crm.deal", {"name": "Big deal"})
        enqueue(conn, "action.webhook", f"deal-{rec['id']}-won",
                {"url": sys.argv[1], "record": rec}, entity="crm.deal", record_id=rec["id"])
    print("committed", flush=True)
    time.sleep(120)  # killed here, before anything dispatches
    """
)


@pytest.fixture
def env(database_url, tmp_path):
    return {
        **os.environ,
        "XRM_DATABASE_URL": database_url,
        "XRM_INSTANCE_PATH": str(tmp_path / "instance"),
        "XRM_SECRET_KEY": "test-secret-key-not-for-production",
        "XRM_PLUGINS_ALLOW": "none",
        "XRM_JOBS": "worker",
        "XRM_JOBS_POLL_SECONDS": "0.1",
        "XRM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def xrm(*args: str) -> list[str]:
    return [sys.executable, "-c", "from xrm.cli import main; main()", *args]


def outbox_rows(p):
    with p.engine.connect() as conn:
        return conn.execute(
            sa.select(outbox.c.status, outbox.c.attempts).where(outbox.c.topic == "action.webhook")
        ).all()


def test_a_message_committed_by_a_killed_process_is_delivered_by_a_later_worker(
    platform, receiver, env
):
    platform.registry.apply_documents(
        [{"x-xrm": {"name": "crm.deal"}, "properties": {"name": {"type": "string"}}}]
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, receiver.url + "/won"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = writer.stdout.readline()
        assert line.strip() == "committed", writer.stderr.read()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    assert writer.returncode == -signal.SIGKILL
    assert [tuple(r) for r in outbox_rows(platform)] == [("pending", 0)]
    assert receiver.requests == []

    done = subprocess.run(
        xrm("worker", "--once", "--no-schedule"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 done" in done.stdout
    [req] = receiver.requests
    assert req["path"] == "/won"
    assert req["headers"]["X-Xrm-Idempotency-Key"].startswith("deal-")
    assert [tuple(r) for r in outbox_rows(platform)] == [("done", 1)]


def test_the_worker_delivers_until_sigterm_and_then_stops_cleanly(platform, receiver, env):
    from xrm.core.jobs import enqueue

    worker = subprocess.Popen(
        xrm("worker", "--threads", "2"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "xrm worker delivering with 2 thread(s)" in worker.stdout.readline()
        with platform.engine.begin() as conn:
            enqueue(conn, "action.webhook", "live-1", {"url": receiver.url})
        wait_for(lambda: receiver.requests, timeout=60)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(30)
    assert worker.returncode == 0, err
    assert "Received SIGTERM" in out and "Stopped." in out
    wait_for(lambda: [tuple(r) for r in outbox_rows(platform)] == [("done", 1)], timeout=10)
