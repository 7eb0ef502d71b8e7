"""Scenarios 1 and 3 of the metadata benchmark (2 is in :mod:`bench.version_check`, 4 in
:mod:`bench.startup`). Each takes an empty :class:`BenchDatabase` and returns :class:`Result`
rows; none asserts anything."""

from __future__ import annotations

import gc
import time

import sqlalchemy as sa

from xrm.core import tables as core_tables
from xrm.core.context import SYSTEM
from xrm.core.records.service import RecordService
from xrm.core.security.permissions import permissions_apply_hook
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

    def __init__(self, db: BenchDatabase, listen: bool = False):
        self.engine = create_engine(db.url)
        # With the app's permission hook (it does nothing without Flask-AppBuilder's tables).
        self.registry = MetadataRegistry(
            self.engine, apply_hooks=[permissions_apply_hook], listen=listen
        )
        self.registry.install()
        with self.engine.begin() as conn:
            core_tables.install(conn)
        self.records = RecordService(self.registry)

    def apply(self, documents: list[dict]) -> int:
        return self.registry.apply(self.registry.plan(documents))

    def close(self) -> None:
        self.registry.close()
        self.engine.dispose()


def _ms(seconds: float) -> float:
    return seconds * 1000.0


# -- 1. a new 20-field entity and its first record ------------------------------------------------


def new_entity_runs(
    p: Platform, runs: int, prefix: str, remove: bool = False
) -> dict[str, list[float]]:
    """``runs`` + 1 times: plan + apply a new 20-field entity, insert its first record.
    Milliseconds per phase; the first run (imports, caches) is kept apart as ``cold``.
    ``remove``: remove each entity again after it was measured (not timed), so that every run
    finds the same number of entities."""
    if TARGET_ENTITY not in p.registry.snapshot():
        p.apply([target_document()])
    with p.engine.begin() as conn:
        target_id = p.records.create(conn, SYSTEM, TARGET_ENTITY, {"name": "target"})["id"]
    out: dict[str, list[float]] = {"plan": [], "apply": [], "insert": [], "total": [], "cpu": []}
    for i in range(runs + 1):
        name = f"bench.{prefix}{i:03d}"
        gc.collect()  # not inside the timed part: garbage of the previous run
        c0 = time.process_time()
        t0 = time.perf_counter()
        plan = p.registry.plan([entity_document(name, 20)])
        t1 = time.perf_counter()
        p.registry.apply(plan)
        t2 = time.perf_counter()
        with p.engine.begin() as conn:
            p.records.create(conn, SYSTEM, name, first_record(target_id))
        t3 = time.perf_counter()
        c3 = time.process_time()
        for key, v in (
            ("plan", t1 - t0),
            ("apply", t2 - t1),
            ("insert", t3 - t2),
            ("total", t3 - t0),
            ("cpu", c3 - c0),
        ):
            out[key].append(_ms(v))
        if remove:
            p.registry.apply(p.registry.plan(removed=[name]), confirm=True)
    out["cold"] = [out["total"][0]]
    for key in ("plan", "apply", "insert", "total", "cpu"):
        out[key].pop(0)
    return out


def new_entity_detail(t: dict[str, list[float]]) -> str:
    return (
        f"median of {len(t['total'])}; p95 {p95(t['total']):.1f} ms; plan {median(t['plan']):.1f} + "
        f"apply {median(t['apply']):.1f} + insert {median(t['insert']):.1f} ms (medians); "
        f"first run {t['cold'][0]:.0f} ms; CPU time of this process {median(t['cpu']):.1f} ms "
        "(median; the database server's work is not in it on PostgreSQL)"
    )


def add_entities(p: Platform, names: list[str], n_fields: int, batch: int = 25) -> float:
    """Apply entities of ``n_fields`` fields (each referencing the target and the one before
    it), ``batch`` per change. Returns the seconds it took."""
    t0 = time.perf_counter()
    if TARGET_ENTITY not in p.registry.snapshot():
        p.apply([target_document()])
    for start in range(0, len(names), batch):
        docs = [
            entity_document(name, n_fields, references=(TARGET_ENTITY, names[max(0, i - 1)]))
            for i, name in enumerate(names[start : start + batch], start)
        ]
        p.apply(docs)
    return time.perf_counter() - t0


def new_entity(db: BenchDatabase, runs: int, present: tuple[int, ...]) -> list[Result]:
    """plan + apply of a new 20-field entity, then its first record through RecordService, with
    N other entities of 20 fields in the database for each N in ``present`` (plus the entity the
    reference field points at). Each measured entity is removed again afterwards (untimed), so
    every run of one size sees exactly N entities."""
    p = Platform(db)
    out = []
    try:
        names: list[str] = []
        for n in present:
            more = [f"bench.e{i:03d}" for i in range(len(names), n)]
            build_s = add_entities(p, more, 20)
            names += more
            t = new_entity_runs(p, runs, f"n{n}_", remove=True)
            out.append(
                Result(
                    f"1 new 20-field entity + first record, {n} present",
                    db.backend,
                    median(t["total"]),
                    "ms",
                    100.0,
                    new_entity_detail(t)
                    + f"; {n} entities of 20 fields present (+ the reference target); "
                    f"adding the {len(more)} new ones took {build_s:.1f} s",
                )
            )
        return out
    finally:
        p.close()


# -- 2. the per-request metadata version check: bench/version_check.py -----------------------


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
