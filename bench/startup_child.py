"""One cold start, run in a fresh interpreter by the start-up scenario of
:mod:`bench.metadata_bench`. Prints one JSON line: timings and the peak resident set size.

``--mode app``: ``xrm.create_app`` up to its compiled snapshot (what a web worker does).
``--mode registry``: the metadata registry alone, ``MetadataRegistry(engine).snapshot()``.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 (the clock starts before any import)
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def peak_rss_kib() -> int:
    """This process's own peak resident set size.

    ``ru_maxrss`` is not it: Linux carries the high-water mark of the forking parent's memory
    across fork and exec, so a child of a big benchmark process reports the parent's peak.
    ``VmHWM`` belongs to the address space the exec created."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _time_calls(cls: type, name: str, into: dict[str, float], key: str) -> None:
    """Add the time spent in ``cls.name`` to ``into[key]`` (outermost calls only, since
    ``MetadataRegistry.snapshot()`` calls itself with a connection)."""
    original = getattr(cls, name)
    depth = [0]

    def timed(*args, **kwargs):
        depth[0] += 1
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                into[key] = into.get(key, 0.0) + time.perf_counter() - t0

    setattr(cls, name, timed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("app", "registry"), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--instance", required=True)
    args = parser.parse_args(argv)

    before_import = time.perf_counter()
    phases: dict[str, float] = {}
    if args.mode == "app":
        from flask_appbuilder import AppBuilder

        import xrm
        from xrm.app import platform
        from xrm.metadata.registry import MetadataRegistry

        imported = time.perf_counter()
        # Where create_app spends its time: FAB's set-up (incl. its permission sync) and the
        # first snapshot; wrapped after the imports, so the import time is unaffected.
        _time_calls(AppBuilder, "init_app", phases, "fab_init_app_s")
        _time_calls(MetadataRegistry, "snapshot", phases, "snapshot_s")
        app = xrm.create_app(
            {"DATABASE_URL": args.url, "INSTANCE_PATH": args.instance, "PLUGINS_ALLOW": ()}
        )
        snapshot = platform(app).registry.current
        compiled = time.perf_counter()
    else:
        from xrm.metadata.database import create_engine
        from xrm.metadata.registry import MetadataRegistry

        imported = time.perf_counter()
        registry = MetadataRegistry(create_engine(args.url))
        t0 = time.perf_counter()
        snapshot = registry.snapshot()
        compiled = time.perf_counter()
        phases["snapshot_s"] = compiled - t0
    done_wall = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_rss_mb = peak_rss_kib() / 1024
    if args.mode == "registry":
        # Tables are built on first use, so start-up builds none. What building all of them
        # costs, measured after the figures above (which do not include it):
        t0 = time.perf_counter()
        for ce in snapshot.entities.values():
            ce.table  # noqa: B018
        phases["all_tables_s"] = time.perf_counter() - t0
        phases["all_tables_peak_rss_mb"] = peak_rss_kib() / 1024
    print(
        json.dumps(
            {
                "mode": args.mode,
                "entities": len(snapshot.entities) if snapshot is not None else 0,
                "done_wall": done_wall,
                "from_interpreter_s": compiled - STARTED,
                "from_import_s": compiled - before_import,
                # CPU time of the whole process (interpreter start-up included): what the
                # start-up costs without waiting for the CPU, which other work on a shared
                # machine makes the wall time include.
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "import_s": imported - before_import,
                **phases,
                "peak_rss_mb": peak_rss_mb,
                "ru_maxrss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
