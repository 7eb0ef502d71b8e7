"""SQLite's busy snapshot: a request whose transaction could not write is run again."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from xrm.web.busy import ATTEMPTS, retry_when_busy


def locked() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))


def test_a_busy_request_is_run_again_until_it_succeeds():
    calls = []

    @retry_when_busy
    def view():
        calls.append(1)
        if len(calls) < 3:
            raise locked()
        return "ok"

    assert view() == "ok" and len(calls) == 3


def test_a_request_still_busy_after_every_attempt_raises():
    calls = []

    @retry_when_busy
    def view():
        calls.append(1)
        raise locked()

    with pytest.raises(sa.exc.OperationalError):
        view()
    assert len(calls) == ATTEMPTS


def test_other_database_errors_are_not_retried():
    calls = []

    @retry_when_busy
    def view():
        calls.append(1)
        raise sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))

    with pytest.raises(sa.exc.OperationalError):
        view()
    assert len(calls) == 1


def test_on_sqlite_a_writing_request_takes_the_write_lock_when_it_begins(app, admin_token):
    """Writes run in a transaction begun with BEGIN IMMEDIATE (xrm.metadata.database.writing),
    so a busy snapshot cannot refuse them after their reads; reads keep deferred ones."""
    platform = app.extensions["xrm"]
    if platform.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking")
    platform.registry.apply_documents(
        [{"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}]
    )
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token}"
    begun: dict[int, str] = {}  # driver connection -> how its transaction began
    writes: list[str] = []  # how the transaction of each write began

    def seen(conn, cursor, statement, *args):
        key = id(conn.connection.driver_connection)
        if statement.startswith("BEGIN"):
            begun[key] = statement
        elif statement.startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(begun[key])

    def run(call):
        begun.clear()
        writes.clear()
        res = call()
        return res, sorted(set(begun.values())), list(writes)

    sa.event.listen(platform.engine, "before_cursor_execute", seen)
    try:
        created, begins, written = run(
            lambda: client.post("/api/v1/data/crm.tag", json={"name": "vip"})
        )
        assert created.status_code == 201
        assert written and set(written) == {"BEGIN IMMEDIATE"}
        url = f"/api/v1/data/crm.tag/{created.json['id']}"
        got, begins, written = run(lambda: client.get(url))
        assert got.status_code == 200
        assert (begins, written) == (["BEGIN"], [])
        patch = {"json": {"name": "VIP"}, "headers": {"If-Match": created.headers["ETag"]}}
        patched, begins, written = run(lambda: client.patch(url, **patch))
        assert patched.status_code == 200
        assert written and set(written) == {"BEGIN IMMEDIATE"}
    finally:
        sa.event.remove(platform.engine, "before_cursor_execute", seen)
