"""Record API benchmark: xRM's generic endpoint against Flask-AppBuilder and the bare stack.

Three applications serve the same 12-field entity with the same rows, each on its own database
(SQLite files in one temporary folder, or three throw-away PostgreSQL schemas), in one process:

- ``xrm``: ``/api/v1/data/bench.deal``, the platform's generic endpoint for a runtime-defined
  entity (JWT of an administrator; "get by id, role user" as a user whose role may read all
  deals, the others answering it as "get by id");
- ``fab``: what a Flask-AppBuilder developer writes, a declarative ``Model`` and a
  ``ModelRestApi`` registered with ``appbuilder.add_api`` (JWT of an administrator);
- ``floor``: a minimal hand-written Flask + SQLAlchemy Core endpoint issuing the same queries,
  rendering rows as JSON, with no authentication and no validation.

Every request goes through the application's own ``test_client`` (the same WSGI overhead for
all three); after a warm-up the three are called in turn, request by request, so drift in the
machine affects them alike. Reported: median and p95 milliseconds per request and the ratios
xrm/floor and xrm/fab. Then a CSV import of the same rows into a fresh copy of the entity, in
rows per second.

    python -m bench.api_bench --quick                  # 10,000 rows, a smoke run (< 1 minute)
    python -m bench.api_bench                          # 100,000 rows, SQLite
    python -m bench.api_bench --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python -m bench.api_bench --quick --profile list   # where the xrm path spends its time
    python -m bench.api_bench --import-only [--import-rows N] [--profile import]

The results are discussed in docs/benchmarks.md ("The record API").
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import gc
import io
import json
import logging
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request

from xrm.metadata.database import create_engine

ENTITY = "bench.deal"
STATUSES = ("open", "won", "lost", "hold")
REGIONS = ("emea", "amer", "apac")
FIELDS = (
    "name",
    "email",
    "phone",
    "status",
    "region",
    "amount",
    "rate",
    "priority",
    "active",
    "close_date",
    "last_contact",
    "notes",
)
SYSTEM = ("created_at", "created_by", "updated_at", "updated_by", "owner_id", "row_version")
DEAL_DOCUMENT: dict[str, Any] = {
    "x-xrm": {"name": ENTITY, "indexes": [{"fields": ["status", "amount"]}]},
    "required": ["name", "status"],
    "properties": {
        "name": {"type": "string", "maxLength": 120},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "phone": {"type": "string", "maxLength": 40},
        "status": {"type": "string", "enum": list(STATUSES)},
        "region": {"type": "string", "enum": list(REGIONS)},
        "amount": {"type": "integer", "minimum": 0},
        "rate": {"type": "number"},
        "priority": {"type": "integer", "minimum": 1, "maximum": 5},
        "active": {"type": "boolean"},
        "close_date": {"type": "string", "format": "date"},
        "last_contact": {"type": "string", "format": "date-time"},
        "notes": {"type": "string", "x-xrm": {"type": "longtext"}},
    },
}
#: The list every scenario asks for: one status, the biggest amounts first, 50 rows.
LIST_FILTER, PAGE = "open", 50
ADMIN = ("bench-admin", "bench-admin-password-1")
BULK = 1000
TARGETS = ("xrm", "fab", "floor")


# -- data -------------------------------------------------------------------------------------


def make_record(rng: random.Random, i: int) -> dict[str, Any]:
    """One record as a client sends it (JSON values)."""
    base = dt.datetime(2024, 1, 1)
    return {
        "name": f"Deal {i} {rng.choice(('Acme', 'Globex', 'Initech', 'Umbrella'))}",
        "email": f"buyer{i}@example.com",
        "phone": None if rng.random() < 0.2 else f"+49 30 {rng.randrange(10**7):07d}",
        "status": rng.choice(STATUSES),
        "region": rng.choice(REGIONS),
        "amount": rng.randrange(1_000_000),
        "rate": round(rng.random() * 100, 2),
        "priority": rng.randint(1, 5),
        "active": rng.random() < 0.7,
        "close_date": (base.date() + dt.timedelta(days=rng.randrange(1000))).isoformat(),
        "last_contact": (base + dt.timedelta(seconds=rng.randrange(10**8))).isoformat(),
        "notes": None if rng.random() < 0.5 else "Call back about the renewal. " * 3,
    }


def to_columns(record: dict[str, Any]) -> dict[str, Any]:
    """A client record -> column values (the three tables have the same columns)."""
    row = dict(record)
    if isinstance(row.get("close_date"), str):
        row["close_date"] = dt.date.fromisoformat(row["close_date"])
    if isinstance(row.get("last_contact"), str):
        row["last_contact"] = dt.datetime.fromisoformat(row["last_contact"])
    return row


def load_rows(engine: sa.Engine, table: sa.Table, records: list[dict[str, Any]]) -> None:
    """Insert the preloaded rows as one administrator's, version 1, then refresh statistics."""
    now = dt.datetime(2025, 1, 1)
    system = dict(created_at=now, updated_at=now, created_by=1, updated_by=1, owner_id=1)
    with engine.begin() as conn:
        for start in range(0, len(records), 5000):
            chunk = records[start : start + 5000]
            conn.execute(
                table.insert(),
                [{**to_columns(r), **system, "row_version": 1} for r in chunk],
            )
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ANALYZE {table.name}")


def jsonable(row: Any) -> dict[str, Any]:
    """A row as the platform renders it: dates in ISO 8601, date-times in UTC with a Z."""
    return {
        k: (v.isoformat() + "Z" if isinstance(v, dt.datetime) else v.isoformat())
        if isinstance(v, dt.date)
        else v
        for k, v in row.items()
        if k != "deleted_at"
    }


# -- databases --------------------------------------------------------------------------------


@contextmanager
def databases(backend: str, workdir: Path, pg_url: str | None) -> Iterator[dict[str, str]]:
    """One empty database per target: SQLite files, or PostgreSQL schemas dropped afterwards."""
    if backend == "sqlite":
        yield {t: f"sqlite:///{workdir / f'{t}.sqlite'}" for t in TARGETS}
        return
    assert pg_url is not None
    pg_url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    tag = uuid.uuid4().hex[:8]
    schemas = {t: f"apibench_{tag}_{t}" for t in TARGETS}
    try:
        with admin.connect() as c:
            for s in schemas.values():
                c.exec_driver_sql(f'CREATE SCHEMA "{s}"')
        sep = "&" if "?" in pg_url else "?"
        yield {t: f"{pg_url}{sep}options={quote(f'-csearch_path={s}')}" for t, s in schemas.items()}
    finally:
        with admin.connect() as c:
            for s in schemas.values():
                c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
        admin.dispose()


# -- the three applications -------------------------------------------------------------------


@dataclass
class Target:
    """One application under test and how to ask it each scenario's request."""

    name: str
    client: Any
    headers: dict[str, str]
    list_url: str
    deep_url: str
    item_url: Callable[[int], str]
    create_url: str
    patch: Callable[[Any, int, dict], Any]
    bulk: Callable[[Any, list[dict]], Any]
    dispose: Callable[[], None]
    page_ids: Callable[[Any], list[int]] = field(default=lambda res: [])
    #: the headers of a user without the Admin role (xrm only; the others use ``headers``)
    role_headers: dict[str, str] | None = None


def login(client, username: str, password: str) -> dict[str, str]:
    res = client.post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
    )
    assert res.status_code == 200, res.get_data(as_text=True)
    return {"Authorization": f"Bearer {res.json['access_token']}"}


def add_admin(app) -> None:
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            ADMIN[0], "Bench", "Admin", "bench@example.com", sm.find_role("Admin"), ADMIN[1]
        )


def build_xrm(url: str, workdir: Path, records: list[dict]) -> tuple[Target, Any]:
    import xrm

    app = xrm.create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(workdir / "xrm-instance"),
            "SECRET_KEY": "api-bench-secret-key-xrm-0123456789abcdef",
            "PLUGINS_ALLOW": (),
            "FAB_UPDATE_PERMS": False,
            "XRM_RATE_LIMIT": "",
            "RATELIMIT_ENABLED": False,
            # A full run outlasts the default 15-minute access token (FAB's bulk is slow).
            "JWT_ACCESS_TOKEN_EXPIRES": dt.timedelta(hours=12),
        }
    )
    platform_ = app.extensions["xrm"]
    platform_.registry.apply_documents([DEAL_DOCUMENT])
    table = platform_.registry.snapshot().entity(ENTITY).table
    load_rows(platform_.engine, table, records)
    add_admin(app)
    add_reader(app)
    client = app.test_client()
    headers = login(client, *ADMIN)
    base = f"/api/v1/data/{ENTITY}"
    list_url = f"{base}?status=eq.{LIST_FILTER}&order=amount.desc&limit={PAGE}"

    def patch(c, rid, body):
        return c.patch(f"{base}/{rid}", json=body, headers={**headers, "If-Match": f'"{rid}-1"'})

    def bulk(c, recs):
        return c.post(f"{base}/bulk", json={"records": recs}, headers=headers)

    def dispose():
        from xrm.core.jobs.integration import stop_runner

        stop_runner(app)  # the jobs thread the first request started, before its database goes
        with app.app_context():
            app.extensions["sqlalchemy"].session.remove()
            app.extensions["sqlalchemy"].engine.dispose()
        platform_.engine.dispose()

    target = Target(
        "xrm",
        client,
        headers,
        list_url,
        "",
        lambda rid: f"{base}/{rid}",
        base,
        patch,
        bulk,
        dispose,
        lambda res: [r["id"] for r in res.json["items"]],
        login(client, *READER),
    )
    return target, app


#: A user whose role may read every deal and nothing else: the access path of everyone who is
#: not an administrator (access resolved from grants and kept in the access cache).
READER = ("bench-reader", "bench-reader-password-1")


def add_reader(app) -> None:
    from xrm.core.security import grants

    with app.extensions["xrm"].engine.begin() as conn:
        grants.grant(conn, "Reader", ENTITY, ["read"])
        grants.set_scope(conn, "Reader", ENTITY, "all")
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            READER[0], "Bench", "Reader", "reader@example.com", sm.find_role("Reader"), READER[1]
        )


@cache
def fab_model():
    """The hand-written model and API of a Flask-AppBuilder developer (defined once: FAB's
    ``Model`` base is shared by the whole process)."""
    from flask import current_app
    from flask_appbuilder import Model, ModelRestApi
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    def now():
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    class Deal(Model):
        __tablename__ = "deal"
        __table_args__ = (sa.Index("ix_deal_status_amount", "status", "amount"),)
        id = sa.Column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
        name = sa.Column(sa.String(120), nullable=False)
        email = sa.Column(sa.String(254))
        phone = sa.Column(sa.String(40))
        status = sa.Column(sa.String(100), nullable=False)
        region = sa.Column(sa.String(100))
        amount = sa.Column(sa.Integer)
        rate = sa.Column(sa.Double)
        priority = sa.Column(sa.Integer)
        active = sa.Column(sa.Boolean)
        close_date = sa.Column(sa.Date)
        last_contact = sa.Column(sa.DateTime)
        notes = sa.Column(sa.Text)
        created_at = sa.Column(sa.DateTime, nullable=False, default=now)
        created_by = sa.Column(sa.Integer)
        updated_at = sa.Column(sa.DateTime, nullable=False, default=now, onupdate=now)
        updated_by = sa.Column(sa.Integer)
        owner_id = sa.Column(sa.Integer, index=True)
        row_version = sa.Column(sa.Integer, nullable=False)
        deleted_at = sa.Column(sa.DateTime)
        __mapper_args__ = {"version_id_col": row_version}

    class DealApi(ModelRestApi):
        resource_name = "deal"
        datamodel = SQLAInterface(Deal)
        list_columns = show_columns = ["id", *FIELDS, *SYSTEM]
        add_columns = edit_columns = list(FIELDS)
        search_columns = ["status", "region", "amount", "name"]
        order_columns = ["amount", "name", "close_date", "id"]

        def pre_add(self, item):
            uid = current_app.appbuilder.sm.current_user.id
            item.created_by = item.updated_by = item.owner_id = uid

        def pre_update(self, item):
            item.updated_by = current_app.appbuilder.sm.current_user.id

    return Deal, DealApi


def build_fab(url: str, workdir: Path, records: list[dict], deep_page: int) -> Target:
    from flask_appbuilder import AppBuilder
    from flask_appbuilder.const import AUTH_DB
    from flask_appbuilder.models.sqla.base import SQLA

    deal, deal_api = fab_model()
    app = Flask("fab_bench", instance_path=str(workdir / "fab-instance"))
    app.config.update(
        SECRET_KEY="api-bench-secret-key-fab-0123456789abcdef",
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        AUTH_TYPE=AUTH_DB,
        AUTH_ROLE_ADMIN="Admin",
        FAB_ADD_SECURITY_API=True,
        FAB_API_SWAGGER_UI=False,
        FAB_UPDATE_PERMS=True,
        RATELIMIT_ENABLED=False,
        JWT_ACCESS_TOKEN_EXPIRES=dt.timedelta(hours=12),
    )
    db = SQLA()
    db.init_app(app)
    with app.app_context():
        if url.startswith("sqlite"):  # the same SQLite settings as the other two
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
            db.engine.dispose()
        appbuilder = AppBuilder(update_perms=True)
        appbuilder.init_app(app, db.session)
        appbuilder.add_api(deal_api)
        engine = db.engine
    add_admin(app)
    load_rows(engine, deal.__table__, records)
    client = app.test_client()
    headers = login(client, *ADMIN)

    def rison(page: int) -> str:
        return (
            f"/api/v1/deal/?q=(filters:!((col:status,opr:eq,value:{LIST_FILTER})),"
            f"order_column:amount,order_direction:desc,page:{page},page_size:{PAGE})"
        )

    def patch(c, rid, body):
        return c.put(f"/api/v1/deal/{rid}", json=body, headers=headers)

    def bulk(c, recs):
        last = None
        for rec in recs:  # FAB has no bulk endpoint: one POST per record
            last = c.post("/api/v1/deal/", json=rec, headers=headers)
            if last.status_code != 201:
                return last
        return last

    def dispose():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    return Target(
        "fab",
        client,
        headers,
        rison(0),
        rison(deep_page),
        lambda rid: f"/api/v1/deal/{rid}",
        "/api/v1/deal/",
        patch,
        bulk,
        dispose,
        lambda res: list(res.json["ids"]),
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def floor_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "deal",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("name", sa.String(120)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(40)),
        sa.Column("status", sa.String(100)),
        sa.Column("region", sa.String(100)),
        sa.Column("amount", sa.Integer),
        sa.Column("rate", sa.Double),
        sa.Column("priority", sa.Integer),
        sa.Column("active", sa.Boolean),
        sa.Column("close_date", sa.Date),
        sa.Column("last_contact", sa.DateTime),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.Integer),
        sa.Column("owner_id", sa.Integer, index=True),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("deleted_at", sa.DateTime),
        sa.Index("ix_deal_status_amount", "status", "amount"),
    )


def floor_app(engine: sa.Engine, t: sa.Table) -> Flask:
    """The floor: the same statements as the platform's, rows out as JSON, nothing else."""
    app = Flask("floor_bench")
    app.json.sort_keys = False  # as the platform: the columns' order, and no sorting to pay
    out = [c for c in t.c if c.name != "deleted_at"]

    def record_response(row, status: int = 200) -> Response:
        res = jsonify(jsonable(row))
        res.status_code = status
        res.headers["ETag"] = f'"{row["id"]}-{row["row_version"]}"'
        return res

    @app.get("/deals")
    def list_deals():
        args = request.args
        col, _, direction = args.get("order", "id.asc").partition(".")
        key = t.c[col]
        desc = direction == "desc"
        q = sa.select(*out).where(t.c.deleted_at.is_(None))
        if "status" in args:
            q = q.where(t.c.status == args["status"])
        if "cursor" in args:
            value, rid = (int(x) for x in args["cursor"].split(","))
            beyond = key < value if desc else key > value
            q = q.where(
                key <= value if desc else key >= value,
                sa.or_(beyond, sa.and_(key == value, t.c.id > rid)),
            )
        limit = int(args.get("limit", 50))
        q = q.order_by(key.desc() if desc else key.asc(), t.c.id).limit(limit + 1)
        with engine.begin() as conn:
            rows = conn.execute(q).mappings().all()
        cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            cursor = f"{rows[-1][col]},{rows[-1]['id']}"
        return jsonify({"items": [jsonable(r) for r in rows], "nextCursor": cursor})

    # Statements built once, values passed at execution (SQLAlchemy's fast path: no new
    # statement object, bind parameters or cache key per request).
    by_id = sa.select(*out).where(t.c.id == sa.bindparam("rid"), t.c.deleted_at.is_(None))
    insert = t.insert().returning(*out)
    insert_id = t.insert().returning(t.c.id)
    update = (
        t.update()
        .where(
            t.c.id == sa.bindparam("rid"),
            t.c.row_version == sa.bindparam("expected"),
            t.c.deleted_at.is_(None),
        )
        .values(row_version=t.c.row_version + 1)
        .returning(*out)
    )

    @app.get("/deals/<int:rid>")
    def get_deal(rid: int):
        with engine.begin() as conn:
            row = conn.execute(by_id, {"rid": rid}).mappings().first()
        if row is None:
            return jsonify({"title": "not found"}), 404
        return record_response(row)

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def new_row(record: dict[str, Any]) -> dict[str, Any]:
        at = now()
        return {**to_columns(record), "created_at": at, "updated_at": at, "row_version": 1}

    @app.post("/deals")
    def create_deal():
        with engine.begin() as conn:
            created = conn.execute(insert, new_row(request.get_json())).mappings().one()
        return record_response(created, 201)

    @app.patch("/deals/<int:rid>")
    def patch_deal(rid: int):
        version = int(request.headers["If-Match"].strip('"').partition("-")[2])
        params = {**to_columns(request.get_json()), "updated_at": now()}
        with engine.begin() as conn:
            row = (
                conn.execute(update, {**params, "rid": rid, "expected": version}).mappings().first()
            )
        if row is None:
            return jsonify({"title": "precondition failed"}), 412
        return record_response(row)

    @app.post("/deals/bulk")
    def bulk_deals():
        results = []
        with engine.begin() as conn:  # a loop of single inserts, in one transaction
            for i, rec in enumerate(request.get_json()["records"]):
                rid = conn.execute(insert_id, new_row(rec)).scalar_one()
                results.append({"index": i, "status": 201, "id": rid})
        return jsonify({"results": results})

    return app


def build_floor(url: str, records: list[dict]) -> tuple[Target, int]:
    """The floor application, and the offset of the deep page."""
    engine = create_engine(url)  # the platform's engine settings (SQLite pragmas, pool)
    table = floor_table(sa.MetaData())
    table.metadata.create_all(engine)
    load_rows(engine, table, records)
    open_rows = sum(r["status"] == LIST_FILTER for r in records)
    offset, deep_cursor = deep_position(engine, table, open_rows)
    client = floor_app(engine, table).test_client()
    list_url = f"/deals?status={LIST_FILTER}&order=amount.desc&limit={PAGE}"
    target = Target(
        "floor",
        client,
        {},
        list_url,
        f"{list_url}&cursor={deep_cursor}",
        lambda rid: f"/deals/{rid}",
        "/deals",
        lambda c, rid, body: c.patch(
            f"/deals/{rid}", json=body, headers={"If-Match": f'"{rid}-1"'}
        ),
        lambda c, recs: c.post("/deals/bulk", json={"records": recs}),
        engine.dispose,
        lambda res: [r["id"] for r in res.json["items"]],
    )
    return target, offset


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Timing:
    scenario: str
    target: str
    samples_ms: list[float]
    statements: int = 0
    #: CPU time of the calling thread per request (PostgreSQL's work is not in it).
    cpu_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


@dataclass
class Scenario:
    name: str
    #: (target, iteration) -> a response; iterations of the warm-up are negative.
    call: Callable[[Target, int], Any]
    ok: tuple[int, ...]
    iterations: int
    warmup: int


def run_scenario(scn: Scenario, targets: list[Target]) -> list[Timing]:
    """Warm up, count each target's SQL statements for one call, then time the calls, the
    targets taking turns request by request."""
    for k in range(scn.warmup):
        for t in targets:
            _check(scn, t, scn.call(t, -1 - k))
    samples: dict[str, list[float]] = {t.name: [] for t in targets}
    cpu: dict[str, list[float]] = {t.name: [] for t in targets}
    statements: dict[str, int] = {}
    gc.collect()
    for i in range(scn.iterations):
        # The targets take turns in a rotating order, so none is always first after a pause.
        k = i % len(targets)
        for t in targets[k:] + targets[:k]:
            with counting_statements(enabled=i == 0) as count:
                start, cpu0 = time.perf_counter(), time.thread_time()
                res = scn.call(t, i)
                samples[t.name].append((time.perf_counter() - start) * 1000)
                cpu[t.name].append((time.thread_time() - cpu0) * 1000)
            statements.setdefault(t.name, count[0])
            _check(scn, t, res)
    return [
        Timing(scn.name, t.name, samples[t.name], statements[t.name], cpu[t.name]) for t in targets
    ]


@contextmanager
def counting_statements(enabled: bool = True) -> Iterator[list[int]]:
    """Count the SQL statements (an executemany counts once) sent by every engine from this
    thread (the xrm application's jobs thread polls its outbox meanwhile)."""
    count = [0]
    me = threading.get_ident()

    def before(*_args):
        if threading.get_ident() == me:
            count[0] += 1

    if not enabled:
        yield count
        return
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)


def _check(scn: Scenario, t: Target, res) -> None:
    if res.status_code not in scn.ok:
        body = res.get_data(as_text=True)[:500]
        raise RuntimeError(f"{scn.name} on {t.name}: HTTP {res.status_code}: {body}")


def scenarios(
    n_rows: int, iterations: int, warmup: int, bulk_iterations: int, bulk_warmup: int, seed: int
) -> list[Scenario]:
    rng = random.Random(seed)
    get_ids = [rng.randrange(1, n_rows + 1) for _ in range(iterations + warmup)]
    # Patches go to distinct preloaded records, so each is at version 1 ("<id>-1").
    patch_ids = rng.sample(range(1, n_rows + 1), iterations + warmup)
    new = [make_record(random.Random(seed + 1 + i), n_rows + i) for i in range(BULK)]

    def body_of(i: int) -> dict:
        return {"amount": 1000 + i % 1000, "priority": 1 + i % 5}

    return [
        Scenario(
            "list",
            lambda t, i: t.client.get(t.list_url, headers=t.headers),
            (200,),
            iterations,
            warmup,
        ),
        Scenario(
            "deep page",
            lambda t, i: t.client.get(t.deep_url, headers=t.headers),
            (200,),
            iterations,
            warmup,
        ),
        Scenario(
            "get by id",
            lambda t, i: t.client.get(t.item_url(get_ids[i]), headers=t.headers),
            (200,),
            iterations,
            warmup,
        ),
        Scenario(
            "get by id, role user",
            lambda t, i: t.client.get(t.item_url(get_ids[i]), headers=t.role_headers or t.headers),
            (200,),
            iterations,
            warmup,
        ),
        Scenario(
            "create",
            lambda t, i: t.client.post(t.create_url, json=new[i % BULK], headers=t.headers),
            (201,),
            iterations,
            warmup,
        ),
        Scenario(
            "patch",
            lambda t, i: t.patch(t.client, patch_ids[i], body_of(i)),
            (200,),
            iterations,
            warmup,
        ),
        Scenario(
            "bulk 1,000",
            lambda t, i: t.bulk(t.client, new),
            (200, 201),
            bulk_iterations,
            bulk_warmup,
        ),
    ]


def deep_position(engine: sa.Engine, table: sa.Table, open_rows: int) -> tuple[int, str]:
    """(offset, floor cursor) of a page 80 % of the way through the listed rows."""
    offset = max(PAGE, (int(open_rows * 0.8) // 1000) * 1000)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(table.c.amount, table.c.id)
            .where(table.c.status == LIST_FILTER, table.c.deleted_at.is_(None))
            .order_by(table.c.amount.desc(), table.c.id)
            .offset(offset - 1)
            .limit(1)
        ).one()
    return offset, f"{row.amount},{row.id}"


def xrm_cursor_at(target: Target, offset: int) -> str:
    """Walk the xrm list in pages of 1,000 up to ``offset`` (the cursor is signed and opaque)."""
    url = f"/api/v1/data/{ENTITY}?status=eq.{LIST_FILTER}&order=amount.desc&limit=1000"
    cursor, seen = None, 0
    while seen < offset:
        res = target.client.get(
            url + (f"&cursor={cursor}" if cursor else ""), headers=target.headers
        )
        assert res.status_code == 200, res.get_data(as_text=True)
        seen += len(res.json["items"])
        cursor = res.json["nextCursor"]
    return cursor


# -- the CSV import ---------------------------------------------------------------------------


def measure_import(app, records: list[dict], workdir: Path) -> tuple[float, str]:
    """Rows per second of importing ``records`` from a CSV file into a fresh copy of the
    entity, through the import core's public API; without it, through the bulk endpoint."""
    platform_ = app.extensions["xrm"]
    name = f"{ENTITY}_import"
    platform_.registry.apply_documents([{**DEAL_DOCUMENT, "x-xrm": {"name": name}}])
    try:
        from xrm.core.context import Actor
        from xrm.core.transfer.importer import import_file
        from xrm.core.transfer.report import ImportOptions
    except ImportError:
        import_file = None
    if import_file is None:
        return _bulk_rows_per_second(app, name, records), "bulk endpoint (import core absent)"
    path = workdir / "deals.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for r in records:
            w.writerow({k: "" if v is None else v for k, v in r.items()})
    actor = Actor(user_id=1, username=ADMIN[0], roles=("Admin",), is_admin=True)
    try:  # the HTTP import endpoint's transaction (BEGIN IMMEDIATE on SQLite)
        from xrm.metadata.database import writing
    except ImportError:  # older code: a deferred transaction, retried when busy (below)
        writing = sa.Engine.begin
    for attempt in range(1, 6):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            with writing(platform_.engine) as conn:
                report = import_file(platform_.records, conn, actor, name, path, ImportOptions())
            break
        except sa.exc.OperationalError as exc:
            # SQLite's busy snapshot (older code, whose transaction began deferred): the
            # application's jobs thread committed (the outbox message of the entity just
            # applied) after the import's transaction first read. The import rolled back
            # entirely; the HTTP import endpoint retries the same way (xrm.web.busy). Timed
            # again from the start.
            if attempt == 5 or "database is locked" not in str(exc.orig):
                raise
            time.sleep(0.2)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    summary = report.as_dict()
    if not report.ok:
        raise RuntimeError(f"import failed: {json.dumps(summary, default=str)[:800]}")
    # Process CPU time includes SQLite's own work (in-process): on a shared machine it is the
    # steadier figure; wall time is what a user waits.
    return len(records) / elapsed, (
        f"xrm.core.transfer.importer.import_file, CSV file; process CPU "
        f"{len(records) / cpu:,.0f} rows/s"
    )


def _bulk_rows_per_second(app, entity: str, records: list[dict]) -> float:
    client = app.test_client()
    headers = login(client, *ADMIN)
    start = time.perf_counter()
    for i in range(0, len(records), BULK):
        res = client.post(
            f"/api/v1/data/{entity}/bulk", json={"records": records[i : i + BULK]}, headers=headers
        )
        assert res.status_code == 200, res.get_data(as_text=True)[:500]
    return len(records) / (time.perf_counter() - start)


# -- a run ------------------------------------------------------------------------------------


@dataclass
class Settings:
    rows: int
    iterations: int
    warmup: int
    bulk_iterations: int
    import_rows: int
    bulk_warmup: int = 1
    seed: int = 7
    profile: str | None = None
    #: Scenario name prefixes to run (empty: all).
    only: tuple[str, ...] = ()
    #: Leave Flask-AppBuilder out (its list takes 10x the others: most of a run's time).
    with_fab: bool = True


def run_import_only(backend: str, settings: Settings, pg_url: str | None) -> dict[str, Any]:
    """Only the CSV import (``--import-only``): the xrm application on an empty entity, no FAB
    or floor, no request scenarios."""
    rng = random.Random(settings.seed)
    workdir = Path(tempfile.mkdtemp(prefix="xrm-apibench-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        urls = stack.enter_context(databases(backend, workdir, pg_url))
        xrm_t, xrm_app = build_xrm(urls["xrm"], workdir, [])
        stack.callback(xrm_t.dispose)
        import_records = [make_record(rng, i) for i in range(settings.import_rows)]
        if settings.profile:
            print_profile(
                f"import of {settings.import_rows:,} rows",
                lambda: measure_import(xrm_app, import_records, workdir),
            )
            return {"backend": backend, "timings": []}
        load = os.getloadavg()[0]
        rate, how = measure_import(xrm_app, import_records, workdir)
    print(
        f"[{backend}] import of {settings.import_rows:,} rows: {rate:,.0f} rows/s wall; {how}; "
        f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    return {"backend": backend, "timings": []}


def run_backend(backend: str, settings: Settings, pg_url: str | None) -> dict[str, Any]:
    rng = random.Random(settings.seed)
    records = [make_record(rng, i) for i in range(1, settings.rows + 1)]
    workdir = Path(tempfile.mkdtemp(prefix="xrm-apibench-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        urls = stack.enter_context(databases(backend, workdir, pg_url))
        t0 = time.perf_counter()
        xrm_t, xrm_app = build_xrm(urls["xrm"], workdir, records)
        stack.callback(xrm_t.dispose)
        floor_t, offset = build_floor(urls["floor"], records)
        stack.callback(floor_t.dispose)
        targets = [xrm_t, floor_t]
        if settings.with_fab:
            fab_t = build_fab(urls["fab"], workdir, records, offset // PAGE)
            stack.callback(fab_t.dispose)
            targets.insert(1, fab_t)
        xrm_t.deep_url = f"{xrm_t.list_url}&cursor={xrm_cursor_at(xrm_t, offset)}"
        setup_s = time.perf_counter() - t0
        _check_same_pages(targets)
        scns = scenarios(
            settings.rows,
            settings.iterations,
            settings.warmup,
            settings.bulk_iterations,
            settings.bulk_warmup,
            settings.seed,
        )
        if settings.profile == "import":
            import_records = [make_record(rng, i) for i in range(settings.import_rows)]
            print_profile(
                f"import of {settings.import_rows:,} rows",
                lambda: measure_import(xrm_app, import_records, workdir),
            )
        elif settings.profile:
            profile_xrm(next(s for s in scns if s.name.startswith(settings.profile)), xrm_t)
        if settings.profile:
            return {"backend": backend, "timings": [], "setup_s": setup_s}
        timings: list[Timing] = []
        for scn in scns:
            if settings.only and not any(scn.name.startswith(o) for o in settings.only):
                continue
            timings += run_scenario(scn, targets)
            print(f"  [{backend}] {scn.name} done", file=sys.stderr)
        rate, how = None, "not run"
        if settings.import_rows:
            import_records = [make_record(rng, i) for i in range(settings.import_rows)]
            rate, how = measure_import(xrm_app, import_records, workdir)
    return {
        "backend": backend,
        "timings": timings,
        "setup_s": setup_s,
        "deep_offset": offset,
        "import_rate": rate,
        "import_how": how,
        "import_rows": settings.import_rows,
    }


def _check_same_pages(targets: list[Target]) -> None:
    """The three return the same rows for the list and the deep page (same data, same query);
    xrm and the floor the same JSON records (values and their formats), for those pages and
    for a record by id."""
    for attr in ("list_url", "deep_url"):
        pages, bodies = {}, {}
        for t in targets:
            res = t.client.get(getattr(t, attr), headers=t.headers)
            assert res.status_code == 200, f"{t.name} {attr}: {res.get_data(as_text=True)[:300]}"
            pages[t.name] = t.page_ids(res)
            bodies[t.name] = res.json
        first = pages["xrm"]
        for name, ids in pages.items():
            if len(ids) != PAGE or (name != "fab" and ids != first):
                raise RuntimeError(f"{attr}: {name} returned other rows than xrm")
        if bodies["xrm"]["items"] != bodies["floor"]["items"]:
            raise RuntimeError(f"{attr}: the floor's records are not the platform's")
    by_id = {}
    for t in targets:
        if t.name != "fab":
            by_id[t.name] = t.client.get(t.item_url(first[0]), headers=t.headers)
    if by_id["xrm"].json != by_id["floor"].json or (
        by_id["xrm"].headers["ETag"] != by_id["floor"].headers["ETag"]
    ):
        raise RuntimeError("get by id: the floor's record is not the platform's")


#: Scenarios whose requests can be sent again (reads): also profiled with pyinstrument.
READS = ("list", "deep page", "get by id", "get by id, role user")


def profile_xrm(scn: Scenario, target: Target) -> None:
    for k in range(scn.warmup):
        scn.call(target, -1 - k)

    def requests() -> None:
        for i in range(scn.iterations):
            scn.call(target, i)

    print_profile(f"{scn.iterations} x {scn.name} on xrm", requests)
    if scn.name in READS:
        print_call_tree(f"{scn.iterations} x {scn.name} on xrm", requests)


def print_call_tree(title: str, work: Callable[[], Any]) -> None:
    """Run ``work`` under pyinstrument (a sampling profiler: the call tree with each frame's
    share of the time, less distorted than cProfile's per-call overhead), if installed."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("(pyinstrument is not installed: pip install pyinstrument for a call tree)")
        return
    profiler = Profiler(interval=0.0002)
    profiler.start()
    work()
    profiler.stop()
    print(f"{title}, under pyinstrument")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def print_profile(title: str, work: Callable[[], Any], top: int = 35) -> None:
    """Run ``work`` under cProfile; print the platform's own functions, then everything."""
    prof = cProfile.Profile()
    prof.runcall(work)
    out = io.StringIO()
    print(f"{title}, under cProfile", file=out)
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(r"/xrm/", top)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue().replace(str(Path.cwd()) + "/", ""))


# -- report -----------------------------------------------------------------------------------

#: scenario -> (largest xrm/floor, largest xrm/FAB): the targets of the records issue.
TARGETS_BY_SCENARIO: dict[str, tuple[float, float | None]] = {
    "list": (1.3, 0.5),
    "deep page": (1.3, 0.5),
    "get by id": (1.3, 0.5),
    "get by id, role user": (1.3, 0.5),
    "create": (2.0, None),
    "patch": (2.0, None),
}


def report(result: dict[str, Any]) -> str:
    by = {(t.scenario, t.target): t for t in result["timings"]}
    lines = [
        f"### {result['backend']}",
        "",
        "| scenario | xrm median / p95 | FAB median / p95 | floor median / p95 "
        "| xrm/floor (target) | xrm/floor paired | CPU xrm / floor | xrm/FAB (target) "
        "| SQL statements xrm / FAB / floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scn in dict.fromkeys(t.scenario for t in result["timings"]):
        x, f, fl = by[(scn, "xrm")], by.get((scn, "fab")), by[(scn, "floor")]
        floor_max, fab_max = TARGETS_BY_SCENARIO.get(scn, (None, None))
        paired = statistics.median(a / b for a, b in zip(x.samples_ms, fl.samples_ms, strict=True))
        cpu_x, cpu_fl = statistics.median(x.cpu_ms), statistics.median(fl.cpu_ms)
        lines.append(
            f"| {scn} | {_ms(x)} | {_ms(f) if f else '-'} | {_ms(fl)} "
            f"| {_ratio(x.median / fl.median, floor_max)} | {paired:.2f} "
            f"| {cpu_x:.2f} / {cpu_fl:.2f} ms ({cpu_x / cpu_fl:.2f}) "
            f"| {_ratio(x.median / f.median, fab_max) if f else '-'} "
            f"| {x.statements} / {f.statements if f else '-'} / {fl.statements} |"
        )
    rate = result["import_rate"]
    imported = (
        "CSV import not run. "
        if rate is None
        else f"CSV import of {result['import_rows']:,} rows: **{rate:,.0f} rows/s** "
        f"({result['import_how']}; target >= 20,000 rows/s on SQLite: "
        f"{'met' if rate >= 20000 else 'not met'}). "
    )
    lines += [
        "",
        f"{imported}Deep page offset: {result['deep_offset']:,}. "
        f"Setup (apps + data): {result['setup_s']:.1f} s. "
        f"Load average when done: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
    ]
    return "\n".join(lines)


def _ratio(value: float, target: float | None) -> str:
    if target is None:
        return f"{value:.2f}"
    return f"{value:.2f} (<= {target:g}: {'met' if value <= target else '**not met**'})"


def _ms(t: Timing) -> str:
    return f"{t.median:.2f} / {t.p95:.2f} ms"


def environment() -> str:
    from importlib.metadata import version

    versions = ", ".join(
        f"{p} {version(p)}" for p in ("flask", "flask-appbuilder", "sqlalchemy", "psycopg")
    )
    return (
        f"{dt.date.today().isoformat()}, {platform.machine()} nproc={os.cpu_count()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{versions}; load average {os.getloadavg()[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.api_bench", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--rows", type=int, default=100_000, help="preloaded rows (default 100,000)")
    ap.add_argument(
        "--iterations", type=int, help="timed requests per scenario (default 300, --quick 40)"
    )
    ap.add_argument("--warmup", type=int, default=30, help="untimed requests per scenario")
    ap.add_argument("--bulk-iterations", type=int, default=5, help="timed bulk requests")
    ap.add_argument(
        "--import-rows",
        type=int,
        help="CSV rows imported (default 100,000, --quick 10,000; 0: no import)",
    )
    ap.add_argument(
        "--without-fab", action="store_true", help="compare xrm with the floor only (faster)"
    )
    ap.add_argument(
        "--only",
        metavar="NAMES",
        default="",
        help="comma-separated scenario name prefixes to run (list,deep,get,create,patch,bulk)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="10,000 rows (and imported), 40 iterations unless --iterations is given",
    )
    ap.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (a schema per app)")
    ap.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    ap.add_argument(
        "--import-only",
        action="store_true",
        help="only the CSV import of --import-rows rows (with --profile import: profile it)",
    )
    ap.add_argument(
        "--profile",
        metavar="SCENARIO",
        help="instead of measuring, cProfile the xrm side of one scenario (list, deep, get, "
        "create, patch, bulk, import) on the first backend",
    )
    args = ap.parse_args(argv)
    settings = Settings(
        args.rows,
        args.iterations or 300,
        args.warmup,
        args.bulk_iterations,
        100_000 if args.import_rows is None else args.import_rows,
        profile=args.profile,
    )
    if args.quick:  # 10,000 rows, and as many imported unless --import-rows says otherwise
        imported = 10_000 if args.import_rows is None else args.import_rows
        settings = Settings(
            10_000, args.iterations or 40, 10, 1, imported, bulk_warmup=0, profile=args.profile
        )
    settings.only = tuple(o.strip() for o in args.only.split(",") if o.strip())
    settings.with_fab = not args.without_fab
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    backends = [] if args.postgres_only else ["sqlite"]
    if args.postgres:
        backends.append("postgresql")
    print(f"# {environment()}")
    print(f"# python -m bench.api_bench {' '.join(argv if argv is not None else sys.argv[1:])}")
    for backend in backends:
        run = run_import_only if args.import_only else run_backend
        result = run(backend, settings, args.postgres)
        if result["timings"]:
            print(report(result))
            print()
        if settings.profile:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
