"""Scenario 2 of the metadata benchmark: what a request pays to check the metadata version.

Since the version rides on the statement that loads the caller's user and roles
(``xrm.core.security.access.actor_of``), an authenticated request pays for the check:

- the *marginal* cost of the version subquery inside that statement: the actor statement
  with the subquery minus the same statement without it, executed alternately on the same
  connection (paired call by call, so drift hits both alike);
- plus the registry's Python side: ``snapshot(conn)`` given the noted version.

Beside it, the separate version read every request paid before (``snapshot(conn)`` reading the
version with its own statement), a bare ``SELECT 1``, and on PostgreSQL LISTEN/NOTIFY
(``XRM_METADATA_NOTIFY=1``), where the read is skipped while the listener vouches for it.

Every call is timed one by one; the kinds of call take turns (in a rotating order, so none is
always first). The snapshot memo of a transaction is dropped before each check, since a request
starts a new transaction and so never finds one.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role

from xrm.core.security import access as access_module
from xrm.metadata import store

from .databases import BenchDatabase
from .entities import entity_document, target_document
from .results import Result, median, p95
from .scenarios import Platform

#: The statement of ``actor_of`` (with the version subquery) and the same without it.
ACTOR_WITH_VERSION = access_module._ACTOR_QUERY
ACTOR_WITHOUT_VERSION = ACTOR_WITH_VERSION.with_only_columns(
    *[c for c in ACTOR_WITH_VERSION.selected_columns if c.name != "metadata_version"]
)


def version_check(db: BenchDatabase, calls: int) -> list[Result]:
    out = _riding(db, calls)
    if db.backend == "postgresql":
        out += _listening(db, calls)
    return out


def _add_user(engine: sa.Engine) -> int:
    """Flask-AppBuilder's user and role tables with one user in two roles (what the actor
    statement reads)."""
    tables = [Role.__table__, User.__table__, assoc_user_role]
    User.metadata.create_all(engine, tables=tables)
    with engine.begin() as conn:
        role_ids = [
            conn.execute(Role.__table__.insert().values(name=name)).inserted_primary_key[0]
            for name in ("Sales", "Support")
        ]
        uid = conn.execute(
            User.__table__.insert().values(
                first_name="B",
                last_name="U",
                username="bench-user",
                email="bench@example.org",
                active=True,
            )
        ).inserted_primary_key[0]
        for rid in role_ids:
            conn.execute(assoc_user_role.insert().values(user_id=uid, role_id=rid))
    return uid


def _interleaved(fns: dict[str, Callable[[], object]], calls: int) -> dict[str, list[float]]:
    """Milliseconds per call of each function, the functions taking turns call by call."""
    clock = time.perf_counter_ns
    names = list(fns)
    out: dict[str, list[float]] = {n: [] for n in names}
    gc.collect()
    gc.disable()  # a collection would land on whichever call happens to trigger it
    try:
        for i in range(calls):
            k = i % len(names)
            for name in names[k:] + names[:k]:
                fn = fns[name]
                t0 = clock()
                fn()
                out[name].append((clock() - t0) / 1e6)
            if i % 1000 == 999:
                gc.enable()
                gc.collect()
                gc.disable()
    finally:
        gc.enable()
    return out


def _riding(db: BenchDatabase, calls: int) -> list[Result]:
    p = Platform(db)
    try:
        if "bench.checked" not in p.registry.snapshot():
            p.apply([target_document(), entity_document("bench.checked", 20)])
        uid = _add_user(p.engine)
        params = {"user_id": uid}
        registry = p.registry
        with p.engine.connect() as conn:
            version = registry.snapshot(conn).version  # compiled once
            info = conn.info

            def separate_read():
                info.pop(store.SNAPSHOT_MEMO, None)
                registry.snapshot(conn)

            def noted_check():
                info.pop(store.SNAPSHOT_MEMO, None)
                store.note_version(conn, version)
                registry.snapshot(conn)

            t = _interleaved(
                {
                    "separate": separate_read,
                    "with": lambda: conn.execute(ACTOR_WITH_VERSION, params).all(),
                    "without": lambda: conn.execute(ACTOR_WITHOUT_VERSION, params).all(),
                    "noted": noted_check,
                    "select1": lambda: conn.exec_driver_sql("SELECT 1").scalar(),
                },
                calls,
            )
            assert conn.execute(ACTOR_WITH_VERSION, params).all()[0].metadata_version == version
        per_request = []
        for _ in range(max(1, calls // 10)):
            t0 = time.perf_counter_ns()
            with p.engine.connect() as c:
                registry.snapshot(c)
            per_request.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        p.close()
    marginal = [w - wo for w, wo in zip(t["with"], t["without"], strict=True)]
    riding = [m + n for m, n in zip(marginal, t["noted"], strict=True)]
    sel = median(t["select1"])
    return [
        Result(
            "2 version check, separate read (before), median",
            db.backend,
            median(t["separate"]),
            "ms",
            0.1,
            f"{calls} calls; {median(t['separate']) / sel:.2f}x SELECT 1 ({sel:.3f} ms); "
            f"p95 {p95(t['separate']):.3f} ms",
        ),
        Result(
            "2 version check riding on the actor statement (now), median",
            db.backend,
            median(riding),
            "ms",
            0.1,
            f"{calls} paired calls: (actor statement with the version subquery - without it) + "
            f"snapshot(conn) given the noted version; actor statement "
            f"{median(t['with']):.3f} ms with / {median(t['without']):.3f} ms without "
            f"(median difference {median(marginal):.4f} ms), snapshot given the version "
            f"{median(t['noted']):.4f} ms",
        ),
        Result(
            "2 version check riding on the actor statement (now), p95",
            db.backend,
            p95(riding),
            "ms",
            None,
            "p95 of a difference of two timed round trips: mostly the noise of either; "
            f"actor statement p95 {p95(t['with']):.3f} with / {p95(t['without']):.3f} without",
        ),
        Result(
            "2b connect + snapshot + close (pool), plain path",
            db.backend,
            median(per_request),
            "ms",
            None,
            f"p95 {p95(per_request):.3f} ms; a caller without an actor statement (CLI, jobs) "
            "incl. pool checkout/BEGIN/ROLLBACK",
        ),
    ]


def _listening(db: BenchDatabase, calls: int) -> list[Result]:
    p = Platform(db, listen=True)
    try:
        if "bench.checked" not in p.registry.snapshot():
            p.apply([target_document(), entity_document("bench.checked", 20)])
        if not p.registry.listener.wait_listening(30):
            raise RuntimeError("the metadata listener did not connect")
        registry = p.registry
        with p.engine.connect() as conn:
            registry.snapshot(conn)
            info = conn.info

            def check():
                info.pop(store.SNAPSHOT_MEMO, None)
                registry.snapshot(conn)

            t = _interleaved(
                {"check": check, "select1": lambda: conn.exec_driver_sql("SELECT 1").scalar()},
                calls,
            )
    finally:
        p.close()
    return [
        Result(
            "2 version check, LISTEN/NOTIFY, median",
            db.backend,
            median(t["check"]),
            "ms",
            0.1,
            f"{calls} calls; p95 {p95(t['check']):.4f} ms; the version was read only by the "
            f"safety poll (every {registry.poll_seconds:g} s); SELECT 1 "
            f"{median(t['select1']):.3f} ms",
        )
    ]
