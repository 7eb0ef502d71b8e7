"""Scenario 4: start-up of fresh processes on a database with many entities, and scenario 1
again on that database (how applying a change scales with the number of entities)."""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .databases import BenchDatabase
from .entities import TARGET_ENTITY, entity_document, target_document
from .results import Result, median
from .scenarios import Platform, new_entity_detail, new_entity_runs

REPO = Path(__file__).resolve().parent.parent


def build_wide_schema(db: BenchDatabase, n_entities: int, n_fields: int, batch: int) -> float:
    """Create ``n_entities`` entities of ``n_fields`` fields through the application's own
    registry (so FAB's tables and the entity permission rows exist, as in a real instance).
    Returns the seconds it took."""
    import xrm
    from xrm.app import platform

    t0 = time.perf_counter()
    app = xrm.create_app(
        {"DATABASE_URL": db.url, "INSTANCE_PATH": str(db.workdir / "instance"), "PLUGINS_ALLOW": ()}
    )
    registry = platform(app).registry
    try:
        registry.apply(registry.plan([target_document()]))
        names = [f"bench.s{i:03d}" for i in range(n_entities)]
        for start in range(0, n_entities, batch):
            docs = [
                entity_document(name, n_fields, references=(TARGET_ENTITY, names[max(0, i - 1)]))
                for i, name in enumerate(names[start : start + batch], start)
            ]
            registry.apply(registry.plan(docs))
        return time.perf_counter() - t0
    finally:
        platform(app).engine.dispose()
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def precompile() -> None:
    """Write the byte-code caches of the platform's own modules, as installing a package does
    (site-packages already have theirs): a deployed worker does not compile its sources at
    start-up, even where PYTHONDONTWRITEBYTECODE keeps the interpreter from caching them."""
    for folder in ("xrm", "plugins", "bench"):
        if (REPO / folder).is_dir():
            compileall.compile_dir(REPO / folder, quiet=1)


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XRM_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_child(mode: str, db: BenchDatabase) -> dict:
    """One fresh interpreter; adds ``from_process_s``: wall time from just before the process
    was spawned to the compiled snapshot (interpreter start-up included)."""
    cmd = [
        sys.executable,
        "-m",
        "bench.startup_child",
        "--mode",
        mode,
        "--url",
        db.url,
        "--instance",
        str(db.workdir / "instance"),
    ]
    spawned = time.time()
    proc = subprocess.run(
        cmd, cwd=REPO, env=_child_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"start-up child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["from_process_s"] = report["done_wall"] - spawned
    return report


def startup(
    db: BenchDatabase,
    n_entities: int,
    runs: int,
    runs1b: int = 5,
    n_fields: int = 30,
    batch: int = 25,
) -> list[Result]:
    """Fresh processes starting on ``n_entities`` entities of ``n_fields`` fields; then, on the
    same database, scenario 1's measurement again (how applying scales with the entity count)."""
    setup_s = build_wide_schema(db, n_entities, n_fields, batch)
    precompile()
    size = f"{n_entities}x{n_fields}"
    out = []
    for mode in ("app", "registry"):
        reports = [run_child(mode, db) for _ in range(runs)]
        expected = n_entities + 1  # + the reference target
        if any(r["entities"] != expected for r in reports):
            raise RuntimeError(
                f"start-up child saw {[r['entities'] for r in reports]} entities, expected {expected}"
            )
        wall = median([r["from_process_s"] for r in reports])
        cpu = median([r["cpu_s"] for r in reports])
        rss = max(r["peak_rss_mb"] for r in reports)
        ru_maxrss = max(r["ru_maxrss_mb"] for r in reports)
        imp = median([r["import_s"] for r in reports])
        if mode == "app":
            out.append(
                Result(
                    f"4 start-up create_app, {size}",
                    db.backend,
                    wall,
                    "s",
                    3.0,
                    f"median of {runs} fresh processes, from spawn; from `import xrm` "
                    f"{median([r['from_import_s'] for r in reports]):.2f} s = imports {imp:.2f} s "
                    f"+ FAB init_app {median([r['fab_init_app_s'] for r in reports]):.2f} s "
                    f"+ snapshot {median([r['snapshot_s'] for r in reports]):.2f} s + rest; "
                    f"CPU time {cpu:.2f} s; building the schema took {setup_s:.0f} s",
                )
            )
            out.append(
                Result(
                    f"4 start-up create_app, CPU time, {size}",
                    db.backend,
                    cpu,
                    "s",
                    None,
                    "user + system CPU of the create_app process (median): the start-up without "
                    "waiting for a CPU; on an idle machine the wall time is about this plus I/O",
                )
            )
            out.append(
                Result(
                    f"4 start-up peak RSS, {size}",
                    db.backend,
                    rss,
                    "MB",
                    300.0,
                    f"VmHWM of the create_app process, max over runs (ru_maxrss {ru_maxrss:.0f} MB "
                    "includes this benchmark's own peak, inherited across fork+exec)",
                )
            )
        else:
            snap = median([r["snapshot_s"] for r in reports])
            out.append(
                Result(
                    f"4b registry.snapshot() only, {size}",
                    db.backend,
                    wall,
                    "s",
                    None,
                    f"from spawn; snapshot() call {snap:.2f} s, imports {imp:.2f} s; "
                    f"CPU time {cpu:.2f} s; peak RSS {rss:.0f} MB; tables are built on first "
                    f"use: building all {expected} afterwards took "
                    f"{median([r['all_tables_s'] for r in reports]):.2f} s (peak RSS then "
                    f"{max(r['all_tables_peak_rss_mb'] for r in reports):.0f} MB)",
                )
            )
    # The same new-entity measurement as scenario 1, now with this many entities present.
    p = Platform(db)
    try:
        t = new_entity_runs(p, runs1b, "late", remove=True)
    finally:
        p.close()
    out.append(
        Result(
            f"1b new 20-field entity + first record, {n_entities} entities present",
            db.backend,
            median(t["total"]),
            "ms",
            None,
            new_entity_detail(t) + "; with the permission hook on FAB's tables (as in the app)",
        )
    )
    return out
