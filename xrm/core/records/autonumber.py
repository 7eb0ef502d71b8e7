"""Autonumber values, unique under concurrent inserts.

The counter row is created with INSERT .. ON CONFLICT DO NOTHING and incremented with
UPDATE .. RETURNING, which holds the row lock until the inserting transaction ends: two
concurrent inserts can never draw the same number.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ...metadata import store
from ...metadata.compiler import CompiledEntity
from .checks import generated_fields

TOKEN = re.compile(r"\{(YYYY|YY|MM|DD|SEQ(?::(\d+))?)\}")


def render(fmt: str, today: dt.date, seq: int | None) -> str:
    def sub(m: re.Match) -> str:
        tok = m.group(1)
        if tok == "YYYY":
            return f"{today.year:04d}"
        if tok == "YY":
            return f"{today.year % 100:02d}"
        if tok == "MM":
            return f"{today.month:02d}"
        if tok == "DD":
            return f"{today.day:02d}"
        if seq is None:
            return "#"
        width = int(m.group(2) or 1)
        return f"{seq:0{width}d}"

    return TOKEN.sub(sub, fmt)


def next_value(conn: sa.Connection, key: str) -> int:
    seq = store.sequence
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(seq).values(key=key, value=0).on_conflict_do_nothing(index_elements=["key"])
    )
    return conn.execute(
        seq.update().where(seq.c.key == key).values(value=seq.c.value + 1).returning(seq.c.value)
    ).scalar_one()


def next_number(conn: sa.Connection, entity: str, field: str, fmt: str, today: dt.date) -> str:
    scope = render(fmt, today, None)
    n = next_value(conn, f"{entity}.{field}:{scope}"[:200])
    return render(fmt, today, n)


def generate(conn: sa.Connection, ce: CompiledEntity, values: dict, now: dt.datetime) -> None:
    """Fill in the values the platform generates on create: UUIDs (unless given) and
    autonumbers."""
    for cf in generated_fields(ce):
        if cf.spec.type == "uuid":
            if values.get(cf.name) is None and cf.spec.opt("generate", True):
                values[cf.name] = uuid.uuid4()
        else:
            values[cf.name] = next_number(conn, ce.name, cf.name, cf.spec.opt("format"), now.date())
