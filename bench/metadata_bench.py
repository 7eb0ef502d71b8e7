"""Benchmarks of the metadata engine against the targets of the performance issue.

    python -m bench.metadata_bench [--quick] [--postgres URL] [--only 1,3] [--json out.json]

Scenarios (each on SQLite, and on PostgreSQL when ``--postgres`` names a database in which
throw-away schemas may be created):

1. plan + apply a new 20-field entity and insert its first record (<= 100 ms, median), with 0, 40
   and 300 other entities present (quick: 0 and 40);
2. the per-request version check (<= 0.1 ms): now the marginal cost of the version subquery in
   the statement that loads the caller (with vs without, paired) plus ``snapshot(conn)`` given
   that version; beside it the separate version read of before, ``SELECT 1``, and on
   PostgreSQL LISTEN/NOTIFY (``XRM_METADATA_NOTIFY=1``);
3. plan + apply a new nullable field on tables of 10k, 100k and 1M rows (<= 1 s, flat);
4. start-up of a fresh process with 300 entities of 30 fields (<= 3 s, <= 300 MB RSS), with its
   CPU time.

Prints a table (measured, target, ratio to target, pass/FAIL) and a detail line per figure.
Wall-clock figures grow with the machine's load (printed before and after): on a shared machine
compare the CPU times in the details (scenario 1) and rows (scenario 4). Every database, schema
and folder it creates is removed at the end. Results are figures, not assertions: the exit
status is 0 even when a target is missed (``--strict`` makes it 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from .databases import Backend, server_version
from .results import Result, fmt, table
from .scenarios import add_field, new_entity
from .startup import startup
from .version_check import version_check


@dataclass(frozen=True)
class Sizes:
    new_entity_runs: int
    new_entity_present: tuple[int, ...]
    version_calls: int
    row_counts: tuple[int, ...]
    add_field_repeats: int
    startup_entities: int
    startup_runs: int
    late_entity_runs: int


FULL = Sizes(30, (0, 40, 300), 20_000, (10_000, 100_000, 1_000_000), 5, 300, 3, 5)
QUICK = Sizes(10, (0, 40), 4_000, (10_000, 100_000), 3, 50, 1, 3)


def run(backends: list[Backend], sizes: Sizes, only: set[str], progress=print) -> list[Result]:
    scenarios = {
        "1": lambda db: new_entity(db, sizes.new_entity_runs, sizes.new_entity_present),
        "2": lambda db: version_check(db, sizes.version_calls),
        "3": lambda db: add_field(db, sizes.row_counts, sizes.add_field_repeats),
        "4": lambda db: startup(
            db, sizes.startup_entities, sizes.startup_runs, sizes.late_entity_runs
        ),
    }
    results: list[Result] = []
    for key, scenario in scenarios.items():
        if key not in only:
            continue
        for backend in backends:
            progress(f"scenario {key} on {backend.name} ...")
            t0 = time.perf_counter()
            with backend.database() as db:
                rows = scenario(db)
            results += rows
            for r in rows:
                progress(f"  {r.scenario}: {fmt(r.measured, r.unit)} ({r.verdict})")
            progress(f"  ({time.perf_counter() - t0:.0f} s)")
    return results


def environment(backends: list[Backend]) -> dict[str, str]:
    env = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    for b in backends:
        if b.name == "postgresql":
            env["postgresql"] = server_version(b.admin_url)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.metadata_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (100k rows, 50 entities); a few minutes"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run on PostgreSQL (schemas created and dropped here)",
    )
    parser.add_argument(
        "--only", default="1,2,3,4", help="comma-separated scenario numbers (default: all)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)

    backends = [Backend("sqlite")]
    if args.postgres:
        backends.append(Backend("postgresql", args.postgres))
    sizes = QUICK if args.quick else FULL
    env = environment(backends)
    print("  ".join(f"{k}: {v}" for k, v in env.items()), flush=True)

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results = run(backends, sizes, set(args.only.split(",")), progress)
    env["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(table(results))
    print(f"\nload average before: {env['loadavg']}, after: {env['loadavg_after']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "environment": env,
                    "sizes": asdict(sizes),
                    "results": [
                        {**asdict(r), "ratio": r.ratio, "verdict": r.verdict} for r in results
                    ],
                },
                f,
                indent=2,
            )
    return 1 if args.strict and any(r.verdict == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
