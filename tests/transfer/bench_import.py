"""Quick measurement of bulk CSV import throughput (a script, not a test).

    .venv/bin/python tests/transfer/bench_import.py [ROWS] [--url postgresql+psycopg://...]
        [--key email] [--dry-run] [--profile]

Creates a contact entity (7 fields, a unique e-mail, audit on) in a fresh database (a SQLite
file in a temporary directory unless ``--url`` names another), writes a CSV file of ROWS rows
(default 100,000) and imports it in one transaction through :func:`import_file`. Prints wall
time and the process's CPU time: on a busy machine the CPU figure is the steadier one.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from xrm.core import tables
from xrm.core.context import SYSTEM
from xrm.core.records.service import RecordService
from xrm.core.transfer import ImportOptions, import_file
from xrm.metadata.database import create_engine
from xrm.metadata.registry import MetadataRegistry

CONTACT = {
    "x-xrm": {"name": "bench.contact"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string", "format": "email", "x-xrm": {"unique": True}},
        "age": {"type": "integer", "minimum": 0},
        "active": {"type": "boolean"},
        "born": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": ["lead", "customer"]},
        "budget": {"x-xrm": {"type": "decimal", "precision": 12, "scale": 2}},
    },
}


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("name,email,age,active,born,status,budget\n")
        for i in range(rows):
            f.write(
                f"Person {i},p{i}@example.org,{i % 90},{'yes' if i % 2 else 'no'},"
                f"1990-01-{i % 28 + 1:02d},{'lead' if i % 3 else 'customer'},{i % 1000}.50\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int, nargs="?", default=100_000)
    parser.add_argument("--url")
    parser.add_argument("--key", action="append", default=[])
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="xrm-bench-"))
    engine = create_engine(args.url or f"sqlite:///{workdir / 'bench.sqlite'}")
    registry = MetadataRegistry(engine)
    registry.install()
    with engine.begin() as conn:
        tables.install(conn)
    registry.apply_documents([CONTACT])
    csv_path = workdir / "contacts.csv"
    write_csv(csv_path, args.rows)

    options = ImportOptions(key=tuple(args.key), dry_run=args.dry_run, batch_size=args.batch_size)
    service = RecordService(registry)
    profile = cProfile.Profile() if args.profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    with engine.begin() as conn:
        report = import_file(service, conn, SYSTEM, "bench.contact", csv_path, options)
    if profile:
        profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{engine.dialect.name}: {report.rows:,} rows (created {report.created:,}, "
        f"updated {report.updated:,}, unchanged {report.unchanged:,}, bad {report.skipped:,})"
        f"{' dry run' if args.dry_run else ''}"
    )
    print(f"wall {wall:.2f}s = {report.rows / wall:,.0f} rows/s")
    print(f"cpu  {cpu:.2f}s = {report.rows / cpu:,.0f} rows/s (this process, SQLite included)")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    engine.dispose()


if __name__ == "__main__":
    main()
