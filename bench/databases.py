"""Throw-away databases for the benchmarks: a SQLite file in a temporary folder, or a fresh
schema in a PostgreSQL database. Both are removed when the ``with`` block ends, even on
Ctrl-C or an error."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa


@dataclass(frozen=True)
class BenchDatabase:
    """One empty database: its URL and a scratch folder (instance path, files)."""

    backend: str
    url: str
    workdir: Path


@dataclass(frozen=True)
class Backend:
    """How to make empty databases of one kind. ``admin_url`` is the PostgreSQL database in
    which throw-away schemas are created (unused for SQLite)."""

    name: str
    admin_url: str | None = None

    @contextmanager
    def database(self) -> Iterator[BenchDatabase]:
        workdir = Path(tempfile.mkdtemp(prefix="xrm-bench-"))
        try:
            if self.name == "sqlite":
                yield BenchDatabase(self.name, f"sqlite:///{workdir / 'xrm.sqlite'}", workdir)
            else:
                with _postgres_schema(self.admin_url) as url:
                    yield BenchDatabase(self.name, url, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _admin_engine(admin_url: str) -> sa.Engine:
    if admin_url.startswith("postgresql://"):
        admin_url = "postgresql+psycopg://" + admin_url[len("postgresql://") :]
    return sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextmanager
def _postgres_schema(admin_url: str | None) -> Iterator[str]:
    if not admin_url:
        raise ValueError("a PostgreSQL URL is needed for the postgresql backend")
    schema = f"xrm_bench_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(admin_url)
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in admin_url else "?"
        try:
            yield f"{admin_url}{sep}options={quote(f'-csearch_path={schema}')}"
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        admin.dispose()


def vacuum_analyze(url: str, table: str) -> None:
    """Settle a freshly filled PostgreSQL table (VACUUM cannot run inside a transaction).

    Without it, autovacuum starts on the new rows during the measurement and the ALTER TABLE
    waits for it to be cancelled, which measures autovacuum rather than the metadata engine."""
    eng = _admin_engine(url)
    try:
        with eng.connect() as c:
            c.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
    finally:
        eng.dispose()


def server_version(url: str) -> str:
    eng = _admin_engine(url) if url.startswith("postgresql") else sa.create_engine(url)
    try:
        with eng.connect() as c:
            if eng.dialect.name == "postgresql":
                return c.exec_driver_sql("SHOW server_version").scalar_one()
            return c.exec_driver_sql("SELECT sqlite_version()").scalar_one()
    finally:
        eng.dispose()
