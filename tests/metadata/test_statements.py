"""Prepared statements: sent to the SQLite driver directly, storing and reading values exactly
as SQLAlchemy does, and through SQLAlchemy whenever someone watches the statements."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from xrm.metadata.statements import Prepared

META = sa.MetaData()
EVENTS = sa.Table(
    "t_events",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime),
    sa.Column("zoned", sa.DateTime(timezone=True)),
)
INSERT = Prepared(EVENTS.insert())
BY_ID = Prepared(sa.select(EVENTS.c.at, EVENTS.c.zoned).where(EVENTS.c.id == sa.bindparam("i")))

MOMENTS = [
    dt.datetime(2030, 1, 2, 3, 4, 5, 123456),
    dt.datetime(2030, 1, 2, 3, 4, 5),
    dt.datetime(999, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
    dt.date(2030, 1, 2),
    None,
]


@pytest.fixture
def table(engine):
    META.create_all(engine)
    yield engine
    META.drop_all(engine)


@pytest.mark.parametrize("value", MOMENTS)
def test_datetimes_are_stored_and_read_as_sqlalchemy_stores_and_reads_them(table, value):
    with table.begin() as conn:
        INSERT.run(conn, {"id": 1, "at": value, "zoned": value})  # directly, on SQLite
        conn.execute(EVENTS.insert(), {"id": 2, "at": value, "zoned": value})  # by SQLAlchemy
    with table.begin() as conn:
        raw = conn.exec_driver_sql("SELECT at, zoned FROM t_events ORDER BY id").all()
        mine, theirs = (BY_ID.first(conn, {"i": i}) for i in (1, 2))
    assert raw[0] == raw[1]  # the same text on SQLite
    assert mine == theirs


def test_a_listener_added_to_the_engine_sees_the_next_transactions_statements(table):
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with table.begin() as conn:
        INSERT.run(conn, {"id": 1, "at": MOMENTS[0], "zoned": None})
    assert seen == []
    sa.event.listen(table, "before_cursor_execute", record)
    try:
        with table.begin() as conn:
            INSERT.run(conn, {"id": 2, "at": MOMENTS[0], "zoned": None})
            BY_ID.first(conn, {"i": 2})
    finally:
        sa.event.remove(table, "before_cursor_execute", record)
    assert [s.split()[0] for s in seen if s.split()[0] in ("INSERT", "SELECT")] == [
        "INSERT",
        "SELECT",
    ]
