"""Scenarios 1 to 3 of the metadata benchmark (4 is in :mod:`bench.startup`). Each takes an
empty :class:`BenchDatabase` and returns :class:`Result` rows; none asserts anything."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import sqlalchemy as sa

from xrm.core import tables as core_tables
from xrm.core.context import SYSTEM
from xrm.core.records.service import RecordService
from xrm.metadata.database import create_engine
from xrm.metadata.planner import Risk
from xrm.metadata.registry import MetadataRegistry

from .databases import BenchDatabase, vacuum_analyze
from .entities import (
    TARGET_ENTITY,
    entity_document,
    first_record,
    rows_document,
    target_document,
    with_field,
)
from .results import Result, median, p95


class Platform:
    """A registry and record service on one benchmark database, installed the way the app
    factory does (metadata tables and the core's audit/outbox tables), without Flask."""

    def __init__(self, db: BenchDatabase):
        self.engine = create_engine(db.url)
        self.registry = MetadataRegistry(self.engine)
        self.registry.install()
        with self.engine.begin() as conn:
            core_tables.install(conn)
        self.records = RecordService(self.registry)

    def apply(self, documents: list[dict]) -> int:
        return self.registry.apply(self.registry.plan(documents))

    def close(self) -> None:
        self.engine.dispose()


def _ms(seconds: float) -> float:
    return seconds * 1000.0


# -- 1. a new 20-field entity and its first record ------------------------------------------------


def new_entity_runs(p: Platform, runs: int, prefix: str) -> dict[str, list[float]]:
    """``runs`` + 1 times: plan + apply a new 20-field entity, insert its first record.
    Milliseconds per phase; the first run (imports, caches) is kept apart as ``cold``."""
    if TARGET_ENTITY not in p.registry.snapshot():
        p.apply([target_document()])
    with p.engine.begin() as conn:
        target_id = p.records.create(conn, SYSTEM, TARGET_ENTITY, {"name": "target"})["id"]
    out: dict[str, list[float]] = {"plan": [], "apply": [], "insert": [], "total": []}
    for i in range(runs + 1):
        name = f"bench.{prefix}{i:03d}"
        t0 = time.perf_counter()
        plan = p.registry.plan([entity_document(name, 20)])
        t1 = time.perf_counter()
        p.registry.apply(plan)
        t2 = time.perf_counter()
        with p.engine.begin() as conn:
            p.records.create(conn, SYSTEM, name, first_record(target_id))
        t3 = time.perf_counter()
        for key, v in (
            ("plan", t1 - t0),
            ("apply", t2 - t1),
            ("insert", t3 - t2),
            ("total", t3 - t0),
        ):
            out[key].append(_ms(v))
    out["cold"] = [out["total"][0]]
    for key in ("plan", "apply", "insert", "total"):
        out[key].pop(0)
    return out


def new_entity_detail(t: dict[str, list[float]]) -> str:
    return (
        f"median of {len(t['total'])}; p95 {p95(t['total']):.1f} ms; plan {median(t['plan']):.1f} + "
        f"apply {median(t['apply']):.1f} + insert {median(t['insert']):.1f} ms (medians); "
        f"first run {t['cold'][0]:.0f} ms"
    )


def new_entity(db: BenchDatabase, runs: int) -> list[Result]:
    """plan + apply of a new 20-field entity, then its first record through RecordService, in
    a database holding only the entities this scenario creates; a fresh entity name per run."""
    p = Platform(db)
    try:
        t = new_entity_runs(p, runs, "new")
        return [
            Result(
                "1 new 20-field entity + first record",
                db.backend,
                median(t["total"]),
                "ms",
                100.0,
                new_entity_detail(t) + f"; {runs + 2} entities in the database at the end",
            )
        ]
    finally:
        p.close()


# -- 2. the per-request metadata version check ----------------------------------------------------


def _per_call_ns(fn: Callable[[], object], calls: int) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def version_check(db: BenchDatabase, calls: int) -> list[Result]:
    """registry.snapshot(conn) with an unchanged version on an open connection, against a bare
    ``SELECT 1`` on the same connection (interleaved in blocks, so drift hits both alike)."""
    p = Platform(db)
    try:
        p.apply([target_document(), entity_document("bench.checked", 20)])
        snap_ns, select_ns = [], []
        block = 500
        with p.engine.connect() as conn:
            p.registry.snapshot(conn)  # compiled once; every call below only reads the version
            gc.collect()
            for _ in range(max(1, calls // block)):
                snap_ns += _per_call_ns(lambda: p.registry.snapshot(conn), block)
                select_ns += _per_call_ns(lambda: conn.exec_driver_sql("SELECT 1").scalar(), block)
        per_request = []
        for _ in range(max(1, calls // 10)):
            t0 = time.perf_counter_ns()
            with p.engine.connect() as c:
                p.registry.snapshot(c)
            per_request.append(time.perf_counter_ns() - t0)
        snap_ms = [x / 1e6 for x in snap_ns]
        sel_ms = [x / 1e6 for x in select_ns]
        req_ms = [x / 1e6 for x in per_request]
        ratio = median(snap_ms) / median(sel_ms)
        return [
            Result(
                "2 version check snapshot(conn), median",
                db.backend,
                median(snap_ms),
                "ms",
                0.1,
                f"{len(snap_ms)} calls; {ratio:.2f}x SELECT 1 ({median(sel_ms):.3f} ms)",
            ),
            Result(
                "2 version check snapshot(conn), p95",
                db.backend,
                p95(snap_ms),
                "ms",
                0.1,
                f"SELECT 1 p95 {p95(sel_ms):.3f} ms",
            ),
            Result(
                "2b connect + snapshot + close (pool)",
                db.backend,
                median(req_ms),
                "ms",
                None,
                f"p95 {p95(req_ms):.3f} ms; what a request pays incl. pool checkout/BEGIN/ROLLBACK",
            ),
        ]
    finally:
        p.close()


# -- 3. add a nullable field to a big table -------------------------------------------------------

FILL_SQLITE = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})
INSERT INTO {t} (name, amount, price, day, active, created_at, updated_at, row_version)
SELECT 'row ' || i, i, i * 0.01, '2024-01-01', i & 1,
       '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000', 1
FROM seq
"""

FILL_POSTGRES = """
INSERT INTO {t} (name, amount, price, day, active, created_at, updated_at, row_version)
SELECT 'row ' || i, i, i * 0.01, DATE '2024-01-01', (i & 1) = 1,
       TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01', 1
FROM generate_series(1, {n}) AS s(i)
"""


def fill(engine: sa.Engine, table: str, n: int) -> float:
    """Insert ``n`` rows in one statement; returns the seconds it took."""
    sql = FILL_SQLITE if engine.dialect.name == "sqlite" else FILL_POSTGRES
    t0 = time.perf_counter()
    with engine.begin() as conn:
        quoted = conn.dialect.identifier_preparer.quote(table)
        conn.exec_driver_sql(sql.format(t=quoted, n=int(n)))
    return time.perf_counter() - t0


def add_field(db: BenchDatabase, sizes: tuple[int, ...], repeats: int) -> list[Result]:
    """plan + apply of one new nullable field on a table of N rows, for each N in ``sizes``."""
    p = Platform(db)
    out, medians = [], {}
    try:
        for n in sizes:
            name = f"bench.rows{n}"
            doc = rows_document(name)
            p.apply([doc])
            table = p.registry.snapshot().entity(name).table.name
            fill_s = fill(p.engine, table, n)
            if db.backend == "postgresql":
                vacuum_analyze(db.url, table)
            times = []
            for r in range(repeats):
                doc = with_field(doc, f"extra{r + 1}")
                t0 = time.perf_counter()
                plan = p.registry.plan([doc])
                p.registry.apply(plan)
                times.append(_ms(time.perf_counter() - t0))
                if plan.risk is not Risk.SAFE or len(plan.operations) != 1:
                    raise RuntimeError(f"unexpected plan for a nullable field: {plan.operations}")
            with p.engine.connect() as conn:
                count = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            if count != n:
                raise RuntimeError(f"{table} has {count} rows, expected {n}")
            medians[n] = median(times)
            out.append(
                Result(
                    f"3 add nullable field, {n:,} rows",
                    db.backend,
                    medians[n],
                    "ms",
                    1000.0,
                    f"median of {repeats} (plan+apply), max {max(times):.1f} ms; "
                    f"fill took {fill_s:.2f} s",
                )
            )
        lo, hi = min(sizes), max(sizes)
        out.append(
            Result(
                f"3 flatness: {hi:,}/{lo:,} rows",
                db.backend,
                medians[hi] / medians[lo],
                "x",
                2.0,
                "ratio of medians; target: flat (<= 2x, allowing for noise)",
            )
        )
        return out
    finally:
        p.close()
