"""The set-based INSERT of a batch (xrm.core.records.batch) writes, for every field type, what
the one-record reference gives: the stored record read back, its audit entry as the JSON of
``json.dumps(audit.diff(None, record), default=str)`` and its outbox payload as the JSON of
``json.dumps(payload, default=str)`` (the same JSON value, the text compact: the batch encodes
with orjson)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg

from xrm.core.context import Actor
from xrm.core.jobs.store import read_payload
from xrm.core.records import audit, batch, reading
from xrm.core.records.inserts import bind_column, binder
from xrm.core.records.service import RecordService
from xrm.core.tables import audit as audit_table
from xrm.core.tables import outbox
from xrm.metadata.compiler import CompiledEntity
from xrm.metadata.model import parse_definition

SINK = {
    "x-xrm": {"name": "crm.sink", "ownership": "user"},
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "maxLength": 80},
        "email": {"type": "string", "format": "email"},
        "notes": {"type": "string", "x-xrm": {"type": "longtext"}},
        "count": {"type": "integer", "minimum": 0, "default": 5},
        "big": {"x-xrm": {"type": "bigint"}},
        "rate": {"x-xrm": {"type": "decimal", "precision": 10, "scale": 3}},
        "ratio": {"type": "number"},
        "price": {"x-xrm": {"type": "money", "currencies": ["EUR", "USD"]}},
        "active": {"type": "boolean"},
        "born": {"type": "string", "format": "date"},
        "seen": {"type": "string", "format": "date-time"},
        "stage": {"type": "string", "enum": ["new", "won", "lost"]},
        "labels": {"type": "array", "items": {"type": "string", "enum": ["vip", "press"]}},
        "extra": {"type": "object"},
        "token": {"type": "string", "format": "uuid"},
        "number": {"x-xrm": {"type": "autonumber", "format": "S-{SEQ:4}"}},
        "parent": {"x-xrm": {"type": "reference", "target": "crm.sink", "onDelete": "setNull"}},
        "about": {"x-xrm": {"type": "regarding"}},
        "friends": {"x-xrm": {"type": "manytomany", "target": "crm.sink"}},
    },
}

FULL = {
    "title": 'Fülle \u00e9t "quoted" \\ and \u2603',
    "email": "ann@example.org",
    "notes": "many\nlines\x01",
    "count": 3,
    "big": 2**40,
    "rate": "1.2345",
    "ratio": 0.1,
    "price": {"amount": "19.99", "currency": "USD"},
    "active": True,
    "born": "0999-12-31",
    "seen": "2024-05-01T10:00:00.000120+02:00",
    "stage": "won",
    "labels": ["press", "vip"],
    "extra": {"a": [1, 2.5, None, "x"], "b": {"c": False}},
    "token": "12345678-1234-5678-1234-567812345678",
}
ACTOR = Actor(user_id=None, username='Ünïcode "admin"', roles=("Admin",), is_admin=True)


@pytest.fixture
def service(registry):
    registry.apply_documents([SINK])
    return RecordService(registry)


def _as_json(value):
    """What ``json.dumps(value, default=str)`` says, read back."""
    return json.loads(json.dumps(value, default=str))


def test_a_batch_writes_what_the_one_record_reference_gives_for_every_field_type(service):
    with service.registry.engine.begin() as conn:
        (first,) = service.create_many(conn, ACTOR, "crm.sink", [{"title": "Parent"}])
        rows = [
            FULL,
            {"title": "Bare"},
            {
                "title": "Linked",
                "parent": first["id"],
                "about": {"entity": "crm.sink", "id": first["id"]},
                "friends": [first["id"]],
                "active": False,
                "count": None,
                "seen": "2024-05-01T10:00:00",
            },
        ]
        made = service.create_many(conn, ACTOR, "crm.sink", rows)
    with service.registry.engine.connect() as conn:
        snap = service.registry.snapshot(conn)
        ce = snap.entity("crm.sink")
        entries = {
            r.record_id: r
            for r in conn.execute(sa.select(audit_table).where(audit_table.c.entity == "crm.sink"))
        }
        messages = {r.record_id: r for r in conn.execute(sa.select(outbox))}
        for record in [first, *made]:
            stored = reading.fetch(conn, snap, ce, record["id"], None)
            assert record == stored
            changes = audit.diff(None, stored, list(ce.fields))
            assert json.loads(entries[record["id"]].changes) == _as_json(changes)
            payload = {
                "entity": "crm.sink",
                "id": record["id"],
                "action": "create",
                "record": record,
                "changes": changes,
                "actor": ACTOR.username,
            }
            message = messages[record["id"]]
            # Stored without the changes (they repeat the record), read with them.
            assert "changes" not in json.loads(message.payload)
            assert read_payload(message.payload) == _as_json(payload)
            assert (message.topic, message.entity) == ("record.created", "crm.sink")
            assert message.idempotency_key == f"crm.sink:{record['id']}:create:1"
            # The times of the batch, as written (SQLite: text in SQLAlchemy's format).
            at = entries[record["id"]].at
            assert message.created_at == message.available_at == at
            assert at.isoformat() + "Z" == record["created_at"]
    assert made[0]["count"] == 3 and made[1]["count"] == 5 and made[2]["count"] is None
    assert made[2]["friends"] == [first["id"]] and made[0]["number"] == "S-0002"


@pytest.mark.parametrize("dialect", [sqlite.dialect(), psycopg.dialect()], ids=["sqlite", "pg"])
@pytest.mark.parametrize(
    "column_type", [sa.DateTime(), sa.Date(), sa.Boolean(create_constraint=False), sa.Numeric(8, 2)]
)
@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.datetimes(), st.dates(), st.booleans()))
def test_a_column_binder_converts_as_the_column_type_does(dialect, column_type, value):
    column = sa.Column("c", column_type)
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    convert = binder(column, dialect)
    expected = value if process is None else _outcome(process, value)
    got = value if convert is None else _outcome(convert, value)
    assert got == expected and type(got) is type(expected)


def _outcome(function, value):
    try:
        return function(value)
    except (TypeError, ValueError, AttributeError) as exc:
        return type(exc)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), psycopg.dialect()], ids=["sqlite", "pg"])
@pytest.mark.parametrize(
    "column_type", [sa.DateTime(), sa.Date(), sa.Boolean(create_constraint=False)]
)
@settings(max_examples=150, deadline=None)
@given(
    values=st.one_of(
        st.lists(st.datetimes(), min_size=1, max_size=5),
        st.lists(st.dates(), min_size=1, max_size=5),
        st.lists(st.booleans(), min_size=1, max_size=5),
        st.lists(st.one_of(st.none(), st.datetimes(), st.dates(), st.booleans()), max_size=5),
    )
)
def test_a_column_is_converted_as_each_value_is(dialect, column_type, values):
    column = sa.Column("c", column_type)
    convert = binder(column, dialect)
    expected = [
        _outcome(lambda v: v if v is None or convert is None else convert(v), v) for v in values
    ]
    try:
        got = bind_column(convert, list(values))
    except (TypeError, ValueError, AttributeError) as exc:
        assert type(exc) in {e for e in expected if isinstance(e, type)}
        return
    assert [(type(g), g) for g in got] == [(type(e), e) for e in expected]


@settings(max_examples=150, deadline=None)
@given(
    values=st.one_of(
        st.lists(st.datetimes(timezones=st.none() | st.timezones()), min_size=1, max_size=5),
        st.lists(st.dates(), min_size=1, max_size=5),
    )
)
def test_a_column_of_dates_is_shown_as_each_value_is(values):
    ce = _shown_entity()
    for name in ("born", "seen"):
        cf = ce.fields[name]
        show = batch._shower(cf)
        expected = [_outcome(show, v) for v in values]
        if any(isinstance(e, type) for e in expected):
            continue
        assert bind_column(show, list(values)) == expected


def _shown_entity():
    return CompiledEntity(parse_definition(SINK))
