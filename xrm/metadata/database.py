"""Engines for SQLite and PostgreSQL, configured the way the metadata engine relies on.

SQLite: pysqlite does not emit BEGIN before DDL, so DDL would auto-commit. The recipe from the
SQLAlchemy documentation hands transaction control to SQLAlchemy (driver autocommit off, BEGIN
emitted explicitly), which makes ALTER/CREATE part of the transaction. Foreign keys are enforced,
WAL lets readers work during writes, and a busy timeout queues writers instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from .statements import unobserved


def configure_sqlite(engine: sa.Engine) -> sa.Engine:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        # Unicode-aware lower() for case-insensitive filters (SQLite's own only folds ASCII).
        dbapi_connection.create_function("xrm_lower", 1, _lower, deterministic=True)
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        begin = conn._execution_options.get("xrm_begin", "BEGIN")
        if not unobserved(conn):
            conn.exec_driver_sql(begin)  # seen by the statement events
            return
        try:  # every transaction starts here: skip SQLAlchemy's per-statement work
            conn.connection.driver_connection.execute(begin)
        except Exception as exc:
            conn._handle_dbapi_exception(exc, begin, (), None, None)

    return engine


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def reading(engine: sa.Engine):
    """A connection (a context manager) for work that only reads, such as a GET request.

    On PostgreSQL it runs in autocommit mode. Under READ COMMITTED, the isolation the platform
    uses, every statement sees what was committed when it started, with or without a
    transaction around it; the transaction would only add its BEGIN and COMMIT, two round trips
    of a request that otherwise needs two or three. On SQLite a read transaction gives the
    request one consistent snapshot and costs no round trip, so it keeps one."""
    if engine.dialect.name != "postgresql":
        return engine.begin()
    # No BEGIN is sent: the transaction is SQLAlchemy's bookkeeping.
    return _variant(engine, "_xrm_reader", isolation_level="AUTOCOMMIT").begin()


def writing(engine: sa.Engine):
    """A connection in a transaction (a context manager) for work that writes, such as a POST
    request: ``engine.begin()``, except that on SQLite the transaction takes the write lock when
    it starts (``BEGIN IMMEDIATE``). A request reads (actor, grants, the record) before it
    writes; begun deferred, its first write fails at once with ``database is locked`` when
    another connection committed after those reads (SQLite's busy snapshot, which the busy
    timeout does not cover), and the whole request must run again. Begun immediate, it waits
    for the other writer (up to the busy timeout) before reading, and then cannot fail so."""
    if engine.dialect.name != "sqlite":
        return engine.begin()
    return _variant(engine, "_xrm_writer", xrm_begin="BEGIN IMMEDIATE").begin()


def _variant(engine: sa.Engine, key: str, **options) -> sa.Engine:
    """``engine.execution_options(**options)``, made once per engine (kept on it as ``key``):
    the same pool, other connection settings."""
    found = engine.__dict__.get(key)
    if found is None:
        found = engine.__dict__[key] = engine.execution_options(**options)
    return found


@contextmanager
def rolled_back_on_error(savepoint: sa.NestedTransaction | None) -> Iterator[None]:
    """Around code that settles ``savepoint`` itself (commit, or rollback and go on writing):
    an error it does not expect rolls the savepoint back on its way out, so the savepoints
    around it can be. (SQLAlchemy's own ``with savepoint:`` refuses statements after an
    explicit rollback inside it.) ``None``: nothing to roll back."""
    try:
        yield
    except BaseException:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        raise


def create_engine(url: str, **kwargs) -> sa.Engine:
    """An engine for ``url`` with the platform's settings applied."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        kwargs.setdefault("poolclass", None)
        if kwargs["poolclass"] is None:
            kwargs.pop("poolclass")
        engine = sa.create_engine(url, **kwargs)
        return configure_sqlite(engine)
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


__all__ = ["NullPool", "configure_sqlite", "create_engine", "reading"]
