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
