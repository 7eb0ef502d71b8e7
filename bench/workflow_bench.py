"""Guarded transitions per second in one process on SQLite, beside a plain update.

Each transition runs the whole path: permission, the engine's checks (role, guard, required
fields, approvals), a ``setFields`` action, a webhook effect queued to the outbox, the record
service's compare-and-swap UPDATE, audit (with the transition's name), the time-in-state log and
the transition hooks; one transaction per transition, as the REST endpoint does. The plain
update changes one field of the same kind of record through the same record service, one
transaction each. The ratio says what the workflow costs.

    .venv/bin/python -m bench.workflow_bench [--n 2000] [--profile transition|plain]

It also counts the statements each operation sends (``before_cursor_execute`` on the engine,
COMMIT included: SQLAlchemy's ``commit`` event). ``--profile`` runs that operation ``--n``
times under cProfile instead of timing, and prints the 40 largest cumulative costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "workflow"))

FLOW = {
    "name": "bench.toggle",
    "entity": "bench.ticket",
    "stateField": "status",
    "states": {"open": {"initial": True}, "held": {}, "closed": {"final": True}},
    "transitions": [
        {
            "name": "hold",
            "from": "open",
            "to": "held",
            "roles": ["agent"],
            "guard": "record.amount != null && record.amount > 0.0",
            "actions": [
                {"type": "setFields", "values": {"touched_at": "now"}},
                {
                    "type": "webhook",
                    "url": "https://example.com/hook",
                    "payload": {"id": "record.id"},
                },
            ],
        },
        {
            "name": "resume",
            "from": "held",
            "to": "open",
            "roles": ["agent"],
            "guard": "record.amount != null && record.amount > 0.0",
            "actions": [{"type": "setFields", "values": {"touched_at": "now"}}],
        },
        {"name": "close", "from": ["open", "held"], "to": "closed"},
    ],
}
TICKET = {
    "x-xrm": {"name": "bench.ticket", "titleField": "title", "audit": True},
    "required": ["title"],
    "properties": {
        "title": {"type": "string"},
        "amount": {"x-xrm": {"type": "decimal", "precision": 12, "scale": 2}},
        "note": {"type": "string"},
        "touched_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["open", "held", "closed"], "default": "open"},
    },
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--profile", choices=("transition", "plain"))
    args = ap.parse_args()
    from xrm import create_app
    from xrm.core.context import Actor
    from xrm.core.security.grants import ensure_role, grant

    tmp = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite'}",
            "INSTANCE_PATH": str(tmp),
            "SECRET_KEY": "bench",
            "PLUGINS_ALLOW": (),
            "FAB_UPDATE_PERMS": False,
        }
    )
    p = app.extensions["xrm"]
    p.registry.apply_documents([TICKET])
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_role("agent")
        with p.engine.begin() as conn:
            ensure_role(conn, "agent")
            grant(conn, "agent", "bench.ticket", ["read", "create", "update"])
        user = sm.add_user(
            "agent", "A", "B", "a@example.org", sm.find_role("agent"), password="x-agent-pw"
        )
    actor = Actor(user_id=user.id, username="agent", roles=("agent",))
    with p.engine.begin() as conn:
        p.workflows.save(conn, "workflow", FLOW, actor="bench")
        ids = [
            p.records.create(conn, actor, "bench.ticket", {"title": f"t{i}", "amount": "10"})["id"]
            for i in range(2)
        ]
    wf_id, plain_id = ids
    n = args.n

    def plain_update(i: int) -> None:
        with p.engine.begin() as conn:
            p.records.update(conn, actor, "bench.ticket", plain_id, {"note": f"n{i}"})

    def transition(i: int) -> None:
        with p.engine.begin() as conn:
            p.workflows.fire(conn, actor, "bench.ticket", wf_id, ("hold", "resume")[i % 2])

    for i in range(50):  # warm up both paths
        plain_update(i)
    for i in range(50):
        transition(i)
    if args.profile:
        _profile(plain_update if args.profile == "plain" else transition, n)
        return
    counts = {
        "plain": _statements(p.engine, plain_update),
        "transition": _statements(p.engine, transition),
    }
    # Interleaved blocks of 50, so a change of machine load hits both alike; wall-clock time
    # and this process's CPU time (SQLite works in-process, so its work is in it too).
    plain = fired = plain_cpu = fired_cpu = 0.0
    for start in range(0, n, 50):
        block = range(start, min(n, start + 50))
        t0, c0 = time.perf_counter(), time.process_time()
        for i in block:
            plain_update(i)
        t1, c1 = time.perf_counter(), time.process_time()
        for i in block:
            transition(i)
        t2, c2 = time.perf_counter(), time.process_time()
        plain, plain_cpu = plain + t1 - t0, plain_cpu + c1 - c0
        fired, fired_cpu = fired + t2 - t1, fired_cpu + c2 - c1
    print(
        f"plain updates:        {n / plain:8.0f}/s  ({plain / n * 1000:.2f} ms each; "
        f"CPU {plain_cpu / n * 1000:.2f} ms = {n / plain_cpu:,.0f}/s of CPU)"
    )
    print(
        f"guarded transitions:  {n / fired:8.0f}/s  ({fired / n * 1000:.2f} ms each; "
        f"CPU {fired_cpu / n * 1000:.2f} ms = {n / fired_cpu:,.0f}/s of CPU)"
    )
    print(
        f"ratio (transition / plain update time): {fired / plain:.2f} (CPU {fired_cpu / plain_cpu:.2f})"
    )
    print(
        f"statements each (COMMIT included): plain update {counts['plain']}, "
        f"transition {counts['transition']}"
    )
    print(f"target >= 1,000 transitions/s: {'met' if n / fired >= 1000 else 'NOT met'}")


def _statements(engine, operation) -> float:
    """Statements sent per operation (averaged over two, as transitions alternate)."""
    import sqlalchemy as sa

    sent = []

    def count(*_args) -> None:
        sent.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    sa.event.listen(engine, "commit", count)
    try:
        for i in range(2):
            operation(i)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
        sa.event.remove(engine, "commit", count)
    return len(sent) / 2


def _profile(operation, n: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        operation(i)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
