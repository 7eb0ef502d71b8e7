"""The per-request version check pushed by PostgreSQL LISTEN/NOTIFY: no round trip while the
listener proves nothing changed; a change is seen on the first call after its notification
reached the process (whatever the listener thread is doing), and on every call while the
listener is down or reconnecting."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from xrm.metadata.database import create_engine
from xrm.metadata.notify import channel_of, notify_settings
from xrm.metadata.registry import MetadataRegistry

NOTE = {"x-xrm": {"name": "crm.note"}, "properties": {"text": {"type": "string"}}}


def note_with(*fields: str) -> dict:
    return {**NOTE, "properties": {**NOTE["properties"], **{f: {"type": "string"} for f in fields}}}


def test_settings_default_off_and_accept_only_clear_values():
    assert notify_settings({}) == (False, 5.0)
    assert notify_settings({"XRM_METADATA_NOTIFY": "1"}) == (True, 5.0)
    assert notify_settings({"XRM_METADATA_NOTIFY": "0"}) == (False, 5.0)
    assert notify_settings({"XRM_METADATA_NOTIFY": "off", "XRM_METADATA_POLL_SECONDS": "0.5"}) == (
        False,
        0.5,
    )
    with pytest.raises(ValueError, match="XRM_METADATA_NOTIFY"):
        notify_settings({"XRM_METADATA_NOTIFY": "maybe"})
    with pytest.raises(ValueError, match="XRM_METADATA_POLL_SECONDS"):
        notify_settings({"XRM_METADATA_POLL_SECONDS": "soon"})
    with pytest.raises(ValueError, match="negative"):
        notify_settings({"XRM_METADATA_POLL_SECONDS": "-1"})


def test_listening_is_ignored_on_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    reg = MetadataRegistry(engine, listen=True)
    reg.install()
    reg.snapshot()
    assert reg.listener is None and not reg.listen
    engine.dispose()


class QueryCounter:
    def __init__(self, engine: sa.Engine):
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.n += 1


@pytest.fixture
def listening(backend, registry, database_url):
    """A second registry (another process) on the same database, listening."""
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    engine = create_engine(database_url)
    reg = MetadataRegistry(engine, listen=True, poll_seconds=3600)
    reg.snapshot()
    assert reg.listener.wait_listening(10)
    reg.snapshot()  # a version read made while listening
    yield reg
    reg.close()
    engine.dispose()


def test_no_round_trip_while_nothing_changed(listening):
    counter = QueryCounter(listening.engine)
    for _ in range(200):
        listening.snapshot()
    with listening.engine.connect() as conn:
        before = counter.n
        for _ in range(200):
            listening.snapshot(conn)
        assert counter.n == before
    assert counter.n == 0


def arrived(listener, generation: int, timeout: float = 10.0) -> None:
    """Wait until a notification has reached the listener's socket (not until the listener
    thread has read it: the registry must not depend on when that thread runs)."""
    deadline = time.monotonic() + timeout
    while listener.fresh(generation):
        assert time.monotonic() < deadline, "no notification arrived"
        time.sleep(0.0005)


def received(listener, n: int, timeout: float = 10.0) -> None:
    """Wait until the listener thread has read ``n`` notifications in all."""
    deadline = time.monotonic() + timeout
    while listener.notifications < n:
        assert time.monotonic() < deadline, f"{listener.notifications} of {n} notifications read"
        time.sleep(0.01)


def test_a_change_is_seen_on_the_first_call_after_its_notification_arrived(registry, listening):
    listener = listening.listener
    for i in range(5):
        generation = listener.generation
        version = registry.apply(registry.plan([note_with(*(f"f{j}" for j in range(i)))]))
        arrived(listener, generation)
        snap = listening.snapshot()
        assert snap.version == version
        assert set(snap.entity("crm.note").fields) == {"text", *(f"f{j}" for j in range(i))}
    received(listener, 5)
    listening.snapshot()  # reads once more: the last notifications came after the last read
    counter = QueryCounter(listening.engine)
    listening.snapshot()
    assert counter.n == 0


def test_a_rolled_back_change_notifies_nobody(registry, listening):
    registry.apply(registry.plan([NOTE]))
    received(listening.listener, 1)
    listening.snapshot()
    generation = listening.listener.generation

    def fail(conn, change):
        raise RuntimeError("injected")

    registry.apply_hooks.append(fail)
    with pytest.raises(RuntimeError):
        registry.apply(registry.plan([note_with("extra")]))
    time.sleep(0.3)
    assert listening.listener.generation == generation
    assert "extra" not in listening.snapshot().entity("crm.note").fields


def test_another_schema_notifies_on_another_channel(listening):
    generation = listening.listener.generation
    with listening.engine.begin() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        conn.execute(sa.select(sa.func.pg_notify(channel_of("some_other_schema"), "")))
    time.sleep(0.3)
    assert listening.listener.generation == generation
    assert listening.listener.fresh(generation)
    assert listening.listener.channel == channel_of(schema) != channel_of("some_other_schema")


def test_while_the_listener_is_down_every_call_reads_the_version(registry, listening):
    listener = listening.listener
    with listening.engine.begin() as conn:
        killed = conn.execute(
            sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": listener.backend_pid}
        ).scalar_one()
    assert killed
    # Changed while the listener is down or reconnecting: seen at once all the same.
    version = registry.apply(registry.plan([NOTE]))
    assert listening.snapshot().version == version
    deadline = time.monotonic() + 10
    while not (listener.connected and listener.reconnects >= 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.connected and listener.reconnects >= 1
    version = registry.apply(registry.plan([note_with("after")]))
    assert listening.snapshot().version == version
    listening.snapshot()
    counter = QueryCounter(listening.engine)
    time.sleep(0.2)
    listening.snapshot()
    listening.snapshot()
    assert counter.n <= 1  # back to no round trip (one read if the notification came late)


def test_the_safety_poll_reads_the_version_when_it_is_due(listening):
    counter = QueryCounter(listening.engine)
    listening.snapshot()
    assert counter.n == 0
    listening.poll_seconds = 0.0
    listening.snapshot()
    listening.snapshot()
    assert counter.n == 2


def test_close_stops_the_listener_and_its_connection(listening):
    listener = listening.listener
    pid = listener.backend_pid
    listening.close()
    assert not listener.connected and listening.listener is None
    # the server ends the backend shortly after the client closed its socket
    deadline = time.monotonic() + 10
    while True:
        with listening.engine.connect() as conn:
            alive = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
        if alive == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert alive == 0
    counter = QueryCounter(listening.engine)
    listening.snapshot()
    assert counter.n == 1  # reads the version again, as without a listener


def test_a_dropped_registry_stops_its_listener(backend, database_url):
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    import gc

    engine = create_engine(database_url)
    reg = MetadataRegistry(engine, listen=True)
    reg.install()
    reg.snapshot()
    listener = reg.listener
    assert listener.wait_listening(10)
    del reg
    gc.collect()
    deadline = time.monotonic() + 10
    while listener.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not listener.connected
    engine.dispose()


FORKED_WORKER = """
import os, sys, time
from xrm.metadata.database import create_engine
from xrm.metadata.registry import MetadataRegistry

NOTE = {"x-xrm": {"name": "crm.note"}, "properties": {"text": {"type": "string"}}}
writer = MetadataRegistry(create_engine(sys.argv[1]))
engine = create_engine(sys.argv[1])
listening = MetadataRegistry(engine, listen=True, poll_seconds=3600)
listening.snapshot()
parent = listening.listener
assert parent.wait_listening(10)
pid = os.fork()
if pid == 0:  # the child: report through the exit status only
    code = 1
    try:
        engine.dispose(close=False)  # SQLAlchemy's rule for forked processes
        snap = listening.snapshot()
        child = listening.listener
        ok = (
            snap.version == writer.version()
            and child is not parent
            and child.pid == os.getpid()
            and child.wait_listening(10)
            and child.backend_pid != parent.backend_pid
        )
        code = 0 if ok else 2
    finally:
        os._exit(code)
deadline = time.monotonic() + 60
while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        sys.exit("the forked child hung")
    time.sleep(0.01)
assert os.waitstatus_to_exitcode(done[1]) == 0, "the child's checks failed"
assert listening.listener is parent and parent.connected, "the parent's listener was touched"
generation = parent.generation
version = writer.apply(writer.plan([NOTE]))
deadline = time.monotonic() + 10
while parent.fresh(generation):
    assert time.monotonic() < deadline, "no notification arrived"
    time.sleep(0.0005)
assert listening.snapshot().version == version
print("ok")
"""


def test_a_forked_worker_listens_on_a_connection_of_its_own(registry, backend, database_url):
    """A pre-forking server creates the app, then forks: the child must neither trust nor close
    the listener it inherited (its connection is the parent's). Run in a fresh interpreter: a
    fork of the test process would copy the locks its other threads hold."""
    import subprocess
    import sys

    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    done = subprocess.run(
        [sys.executable, "-c", FORKED_WORKER, database_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
