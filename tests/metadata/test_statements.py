"""Prepared statements: sent to the SQLite driver directly, storing and reading values exactly
as SQLAlchemy does, and through SQLAlchemy whenever someone watches the statements."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from xrm.metadata.database import reading, writing
from xrm.metadata.statements import Prepared, _direct

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


VALUES = sa.Table(
    "t_values",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("big", sa.BigInteger),
    sa.Column("amount", sa.Numeric(18, 4)),
    sa.Column("ratio", sa.Float),
    sa.Column("flag", sa.Boolean),
    sa.Column("day", sa.Date),
    sa.Column("doc", sa.JSON),
    sa.Column("uid", sa.Uuid),
    sa.Column("note", sa.Text),
)
INSERT_VALUES = Prepared(VALUES.insert())
VALUES_BY_ID = Prepared(sa.select(VALUES).where(VALUES.c.id == sa.bindparam("i")))

ROW = {
    "big": 2**62,
    "amount": decimal.Decimal("12345.6789"),
    "ratio": 0.1,
    "flag": True,
    "day": dt.date(2030, 1, 2),
    "doc": {"a": [1, "zwei", None], "ü": {"x": 1.5}},
    "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "note": "50% off; it's 'quoted' %(not_a_param)s",
}


def test_values_of_every_column_type_round_trip_as_through_sqlalchemy(table):
    with table.begin() as conn:
        assert _direct(conn) is not None  # SQLite and psycopg: the driver is used directly
        INSERT_VALUES.run(conn, {"id": 1, **ROW})
        conn.execute(VALUES.insert(), {"id": 2, **ROW})
    with table.begin() as conn:
        mine = VALUES_BY_ID.first(conn, {"i": 1})
        theirs = dict(conn.execute(sa.select(VALUES).where(VALUES.c.id == 2)).mappings().one())
        rows = VALUES_BY_ID.rows(conn, {"i": 2})
    assert mine == {**theirs, "id": 1}
    assert theirs == {"id": 2, **ROW}
    assert rows == [tuple(theirs.values())]


def test_a_driver_error_is_sqlalchemys_exception_and_nothing_is_written(table):
    with pytest.raises(sa.exc.IntegrityError), table.begin() as conn:
        INSERT_VALUES.run(conn, {"id": 1, **ROW})
        INSERT_VALUES.run(conn, {"id": 1, **ROW})
    with table.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(VALUES)).scalar() == 0


def test_a_reading_connection_reads_without_a_transaction_on_postgresql(table):
    with table.begin() as conn:
        INSERT_VALUES.run(conn, {"id": 1, **ROW})
    with reading(table) as conn:
        assert VALUES_BY_ID.first(conn, {"i": 1})["note"] == ROW["note"]
        driver = conn.connection.driver_connection
        if table.dialect.name == "postgresql":
            assert driver.autocommit  # no BEGIN, no COMMIT: one round trip per statement
            assert driver.info.transaction_status == 0  # IDLE: nothing left open
        else:
            assert conn.in_transaction()  # SQLite: one snapshot for the whole read
    with table.connect() as conn:  # the pooled connection is back to transactions
        conn.execute(sa.text("SELECT 1"))
        if table.dialect.name == "postgresql":
            assert not conn.connection.driver_connection.autocommit


def test_a_writing_transaction_waits_for_another_writer_instead_of_failing(table):
    """SQLite's busy snapshot: a transaction that read, then saw another connection commit,
    cannot write. ``writing`` takes the write lock when it begins, so the other writer waits
    for it (or it for the other) and both writes stand. PostgreSQL: a plain transaction."""
    with table.begin() as conn:
        INSERT_VALUES.run(conn, {"id": 1, **ROW})

    def write_from_another_connection(row_id: int) -> None:
        with table.begin() as other:
            INSERT_VALUES.run(other, {"id": row_id, **ROW})

    if table.dialect.name == "sqlite":
        # The failure writing() avoids: a deferred transaction that read before the commit.
        locked = pytest.raises(sa.exc.OperationalError, match="database is locked")
        with locked, table.begin() as conn:
            VALUES_BY_ID.first(conn, {"i": 1})
            write_from_another_connection(2)
            INSERT_VALUES.run(conn, {"id": 3, **ROW})

    order = []
    with writing(table) as conn:
        if table.dialect.name == "sqlite":
            assert conn.in_transaction()
        VALUES_BY_ID.first(conn, {"i": 1})
        other = threading.Thread(target=lambda: (write_from_another_connection(4), order.append(4)))
        other.start()
        time.sleep(0.2)  # the other writer is waiting (SQLite) or has written its own row
        INSERT_VALUES.run(conn, {"id": 5, **ROW})
        order.append(5)
    other.join(10)
    assert not other.is_alive()
    if table.dialect.name == "sqlite":
        assert order == [5, 4]  # it waited for the lock taken at BEGIN IMMEDIATE
    with table.connect() as conn:
        ids = conn.execute(sa.select(VALUES.c.id).order_by(VALUES.c.id)).scalars().all()
    assert ids == ([1, 2, 4, 5] if table.dialect.name == "sqlite" else [1, 4, 5])
