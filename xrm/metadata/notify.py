"""Metadata changes pushed by PostgreSQL LISTEN/NOTIFY, so that the per-request version check
needs no round trip.

Every apply on PostgreSQL sends a ``NOTIFY`` on the channel of its schema in its transaction
(PostgreSQL delivers it at commit, never for a rolled-back change). A process that listens keeps one extra
connection in a daemon thread (:class:`VersionListener`); the registry may then skip reading the
version when nothing can have changed since it last read it:

- the listener is connected and listening (a dropped connection is retried with a growing pause,
  and until it is back every request reads the version, as without the listener);
- no notification was received since that read, none is being read, and none is waiting
  unread in the socket (checked with a non-blocking ``poll``, so the check does not depend on
  when the listener thread gets to run);
- the last read is less than ``poll_seconds`` old: a safety poll, so coherence never depends on
  the listener alone.

Another instance in another schema of the same database notifies on its own channel.

What this does not give: a change is seen by another process once its notification has reached
that process, not at the instant the applying transaction commits. PostgreSQL sends
notifications to the listening sessions after the commit, asynchronously; on an idle host this
takes microseconds, on a loaded one milliseconds (up to 16 ms measured on 2 busy cores). A
request that starts in that window may still use the previous snapshot, which the version read
of every request (listening off, the default) rules out. See docs/benchmarks.md.

Enabled by the app factory with ``XRM_METADATA_NOTIFY=1`` (default ``0``; PostgreSQL only, ignored
on SQLite); ``XRM_METADATA_POLL_SECONDS`` sets the safety poll (default 5).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Mapping

import sqlalchemy as sa

log = logging.getLogger(__name__)

CHANNEL = "xrm_metadata"
DEFAULT_POLL_SECONDS = 5.0
HEARTBEAT_SECONDS = 10.0
MAX_RECONNECT_PAUSE = 30.0


#: The channel of the current schema (another instance in another schema of the same database
#: has its own): ``xrm_metadata_`` + 12 hex digits of the md5 of the schema name.
CHANNEL_SQL = f"'{CHANNEL}_' || left(md5(coalesce(current_schema(), '')), 12)"


def notify_change(conn: sa.Connection) -> None:
    """Tell the listening processes (at commit) that the metadata version moved."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_notify({CHANNEL_SQL}, '')")


def channel_of(schema: str) -> str:
    import hashlib

    return f"{CHANNEL}_{hashlib.md5(schema.encode()).hexdigest()[:12]}"


def notify_settings(env: Mapping[str, str] | None = None) -> tuple[bool, float]:
    """(listen, safety poll seconds) from ``XRM_METADATA_NOTIFY``/``XRM_METADATA_POLL_SECONDS``."""
    env = os.environ if env is None else env
    raw = env.get("XRM_METADATA_NOTIFY", "0").strip().lower()
    if raw not in ("1", "0", "true", "false", "on", "off", "yes", "no", ""):
        raise ValueError(f"XRM_METADATA_NOTIFY must be 1 or 0, not {raw!r}")
    listen = raw in ("1", "true", "on", "yes")
    try:
        poll = float(env.get("XRM_METADATA_POLL_SECONDS", DEFAULT_POLL_SECONDS))
    except ValueError:
        raise ValueError("XRM_METADATA_POLL_SECONDS must be a number of seconds") from None
    if poll < 0:
        raise ValueError("XRM_METADATA_POLL_SECONDS must not be negative")
    return listen, poll


def conninfo(url: sa.URL) -> str:
    """A libpq connection string for a SQLAlchemy PostgreSQL URL (query options kept)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class VersionListener:
    """One LISTEN connection in a daemon thread; see the module documentation."""

    def __init__(self, url: sa.URL, *, heartbeat: float = HEARTBEAT_SECONDS):
        self.url = url
        self.heartbeat = heartbeat
        self.pid = os.getpid()
        #: Moves on every notification for this schema and whenever the connection is
        #: (re)established or lost: a version read under an older generation proves nothing.
        self.generation = 0
        self.connected = False
        self.notifications = 0
        self.reconnects = -1
        self.backend_pid: int | None = None
        self._reading = False
        self._fd = -1
        self.channel = ""
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xrm-metadata-listener", daemon=True)

    def start(self) -> VersionListener:
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening and close the connection (not from a forked child: the connection
        belongs to the parent)."""
        self._stop.set()
        if os.getpid() == self.pid and self._thread.is_alive():
            self._thread.join(timeout)

    def wait_listening(self, timeout: float) -> bool:
        """Block until the listener is connected (for tests and benchmarks)."""
        return self._listening.wait(timeout)

    def fresh(self, generation: int) -> bool:
        """True when no change can have been notified since ``generation`` was read.

        The order matters: a notification is first in the socket, then being read (``_reading``),
        then counted (``generation``); looking in that order, it is seen at one of the steps."""
        if not self.connected or os.getpid() != self.pid:
            return False
        try:
            p = select.poll()
            p.register(self._fd, select.POLLIN | select.POLLERR | select.POLLHUP)
            if p.poll(0):
                return False
        except (OSError, ValueError):
            return False
        return not self._reading and self.generation == generation and self.connected

    # -- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        pause = 0.5
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except Exception as exc:
                log.warning(
                    "metadata listener: cannot connect (%s); retrying in %.1f s", exc, pause
                )
                self._stop.wait(pause)
                pause = min(pause * 2, MAX_RECONNECT_PAUSE)
                continue
            pause = 0.5
            try:
                self._fd = conn.pgconn.socket
                self.generation += 1
                self.connected = True
                self._listening.set()
                self._listen(conn)
            except Exception as exc:
                if not self._stop.is_set():
                    log.warning("metadata listener: connection lost (%s); reconnecting", exc)
            finally:
                self.connected = False
                self._listening.clear()
                self.generation += 1
                self._fd = -1
                with contextlib.suppress(Exception):  # already broken
                    conn.close()
                if not self._stop.is_set():
                    self._stop.wait(pause)

    def _connect(self):
        import psycopg

        conn = psycopg.connect(
            conninfo(self.url),
            autocommit=True,
            connect_timeout=10,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            application_name="xrm metadata listener",
        )
        try:
            self.channel = conn.execute(f"SELECT {CHANNEL_SQL}").fetchone()[0]
            conn.add_notify_handler(self._on_notify)
            conn.execute(f"LISTEN {self.channel}")
        except Exception:
            conn.close()
            raise
        self.backend_pid = conn.pgconn.backend_pid
        self.reconnects += 1
        return conn

    def _on_notify(self, notify) -> None:
        if notify.channel == self.channel:
            self.generation += 1
            self.notifications += 1

    def _listen(self, conn) -> None:
        pgconn = conn.pgconn
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        quiet_since = time.monotonic()
        while not self._stop.is_set():
            if not poller.poll(500):
                if time.monotonic() - quiet_since >= self.heartbeat:
                    # A connection that died silently is found here (keepalives bound the wait).
                    self._reading = True
                    try:
                        conn.execute("SELECT 1")
                    finally:
                        self._reading = False
                    quiet_since = time.monotonic()
                continue
            self._reading = True
            try:
                pgconn.consume_input()
                while (n := pgconn.notifies()) is not None:
                    self._on_notify(_Notify(n.relname.decode(), n.extra.decode()))
                if pgconn.status != 0:  # CONNECTION_OK
                    raise ConnectionError("listener connection is not OK")
            finally:
                self._reading = False
            quiet_since = time.monotonic()


class _Notify:
    __slots__ = ("channel", "payload")

    def __init__(self, channel: str, payload: str):
        self.channel, self.payload = channel, payload


__all__ = ["CHANNEL", "VersionListener", "channel_of", "notify_change", "notify_settings"]
