"""Helpers for the metadata tests: write and read rows with SQLAlchemy Core, and capture the
whole state of a database (schema, data, definition tables, version) to prove that a failed
change left it exactly as it was.

The metadata engine sits below the record service, so these tests write rows straight into the
compiled tables instead of going through ``xrm.core``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from xrm.metadata.registry import MetadataRegistry

FIXED_TIME = dt.datetime(2024, 1, 1, 12, 0, 0)


class Records:
    """Insert and read records of the current snapshot with plain SQL (no record service)."""

    def __init__(self, registry: MetadataRegistry):
        self.registry = registry
        self.engine = registry.engine

    def insert(self, entity_name: str, **values: Any) -> int:
        ce = self.registry.snapshot().entity(entity_name)
        coerced, problems = ce.validate(values)
        assert not problems, problems
        row = ce.to_row({k: v for k, v in coerced.items() if not ce.fields[k].type.association})
        with self.engine.begin() as conn:
            rid = conn.execute(
                ce.table.insert()
                .values(created_at=FIXED_TIME, updated_at=FIXED_TIME, **row)
                .returning(ce.table.c.id)
            ).scalar_one()
            for fname, assoc in ce.associations.items():
                for target in coerced.get(fname) or ():
                    conn.execute(assoc.insert().values(source_id=rid, target_id=target))
        return rid

    def get(self, entity_name: str, record_id: int) -> dict[str, Any] | None:
        """The record as JSON (through the snapshot's serializer), None if it does not exist."""
        ce = self.registry.snapshot().entity(entity_name)
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(ce.table).where(ce.table.c.id == record_id))
                .mappings()
                .first()
            )
        return None if row is None else ce.dump(row)

    def ids(self, entity_name: str) -> list[int]:
        ce = self.registry.snapshot().entity(entity_name)
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(ce.table.c.id).order_by(ce.table.c.id)).scalars())

    def raw(self, table: str) -> list[dict[str, Any]]:
        """Every row of a physical table, every column, ordered by id (archived columns too)."""
        t = sa.Table(table, sa.MetaData(), autoload_with=self.engine)
        order = t.c.id if "id" in t.c else next(iter(t.c))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(t).order_by(order)).mappings()]


@pytest.fixture
def records(registry) -> Records:
    return Records(registry)


def schema_state(engine: sa.Engine) -> dict[str, Any]:
    """Tables with their columns, indexes, unique constraints and foreign keys."""
    insp = sa.inspect(engine)
    out = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            ],
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in insp.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in insp.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (
                    fk["name"] or "",
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    (fk.get("options") or {}).get("ondelete"),
                )
                for fk in insp.get_foreign_keys(table)
            ),
        }
    return out


def data_state(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table (entity tables and the xrm_* definition tables)."""
    meta = sa.MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            cols = list(table.c)
            out[table.name] = sorted(
                (tuple(map(repr, r)) for r in conn.execute(sa.select(*cols))), key=str
            )
    return out


def database_state(registry: MetadataRegistry) -> dict[str, Any]:
    return {
        "version": registry.version(),
        "schema": schema_state(registry.engine),
        "data": data_state(registry.engine),
    }


@pytest.fixture
def state():
    """``state(registry)``: a comparable picture of the whole database."""
    return database_state


@pytest.fixture
def other_registry(tmp_path):
    """A second, empty database of the backend under test (to import into)."""
    from urllib.parse import quote

    from xrm.metadata.database import create_engine

    backend = os.environ.get("XRM_TEST_DATABASE", "sqlite")
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    else:
        base = os.environ.get(
            "XRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    engine = create_engine(url)
    registry = MetadataRegistry(engine)
    registry.install()
    yield registry
    engine.dispose()
    if admin is not None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def schema():
    """``schema(engine)``: tables, columns, indexes and foreign keys of a database."""
    return schema_state


@pytest.fixture
def records_of():
    """``records_of(registry)``: a :class:`Records` helper for another registry."""
    return Records
