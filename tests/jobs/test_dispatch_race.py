"""Several dispatchers at once: every message is delivered exactly once (no key twice), on
SQLite and PostgreSQL (``FOR UPDATE SKIP LOCKED``), and periodic jobs start once per slot."""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time

import sqlalchemy as sa
from jobs_support import wait_for

from xrm.core.jobs import Dispatcher, Scheduler, enqueue, store
from xrm.core.tables import job_run, job_schedule, outbox

MESSAGES = 300


def test_racing_dispatchers_deliver_each_key_exactly_once(platform):
    delivered: list[str] = []
    lock = threading.Lock()

    seen: set[str] = set()
    shared = threading.Event()

    @platform.jobs.handler("test.race")
    def race(ctx, job):
        # Hold each dispatcher's first delivery until a second dispatcher is delivering too:
        # on a busy machine one thread could otherwise claim every batch before the others
        # start, and the test would not show that the work is shared.
        name = threading.current_thread().name
        with lock:
            first = name not in seen
            seen.add(name)
            if len(seen) >= 2:
                shared.set()
        if first:  # only the first: were the others never to deliver, the rest goes on
            shared.wait(30)
        time.sleep(0.001)  # let the dispatchers interleave
        with lock:
            delivered.append(job.key)

    with platform.engine.begin() as conn:
        for i in range(MESSAGES):
            enqueue(conn, "test.race", f"race-{i}", {"i": i})
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=Dispatcher(platform, platform.jobs, name=f"d{i}").serve,
            args=(stop,),
            name=f"d{i}",
        )
        for i in range(3)
    ]
    for t in threads:
        t.start()
    try:
        try:
            wait_for(lambda: len(delivered) >= MESSAGES, timeout=120)
        except AssertionError:  # say what each dispatcher did
            with platform.engine.connect() as conn:
                statuses = conn.execute(
                    sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
                ).all()
            alive = [t.name for t in threads if t.is_alive()]
            raise AssertionError(
                f"{len(delivered)} of {MESSAGES} delivered; dispatchers that delivered: "
                f"{sorted(seen)}; alive: {alive}; outbox: {statuses}"
            ) from None
        time.sleep(0.2)  # a duplicate would show up now
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    counts = collections.Counter(delivered)
    assert len(counts) == MESSAGES
    assert [k for k, n in counts.items() if n > 1] == []
    with platform.engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.select(outbox.c.status, sa.func.count())
                .where(outbox.c.topic == "test.race")
                .group_by(outbox.c.status)
            ).all()
        )
        workers = conn.execute(sa.select(sa.func.count(sa.distinct(job_run.c.worker)))).scalar()
    assert statuses == {"done": MESSAGES}
    assert workers >= 2  # the work was really shared


def test_concurrent_claims_each_take_at_most_their_limit_and_never_the_same_message(platform):
    """Claimers starting together: each claim holds at most its limit (PostgreSQL once let one
    claimer take every message when its sub-select ran again under concurrent locks), and no
    message is claimed twice."""
    with platform.engine.begin() as conn:
        for i in range(200):
            enqueue(conn, "test.race", f"claim-{i}", {"i": i})
    barrier = threading.Barrier(4)
    claims: list[list[int]] = []
    errors: list[BaseException] = []

    def claimer():
        try:
            barrier.wait()
            while True:
                with platform.engine.begin() as conn:
                    got = store.claim(conn, limit=5, now=store.utcnow(), lease_seconds=300)
                if not got:
                    return
                claims.append([j.id for j in got])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert max(map(len, claims)) <= 5
    claimed = [i for c in claims for i in c]
    assert len(claimed) == len(set(claimed)) == 200


def test_concurrent_enqueues_of_one_key_leave_one_message(platform):
    results = []
    barrier = threading.Barrier(4)

    def add():
        barrier.wait()
        with platform.engine.begin() as conn:
            results.append(enqueue(conn, "test.race", "only-once", {}))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, False, False, True]


def test_a_periodic_job_starts_once_per_slot_however_many_workers_tick(platform):
    runs = []
    platform.jobs.periodic("test.digest", every_seconds=60)(lambda ctx, job: runs.append(job.key))
    schedulers = [Scheduler(platform, platform.jobs, f"w{i}") for i in range(4)]
    at = dt.datetime(2026, 1, 1, 10, 0, 5)
    started = []
    barrier = threading.Barrier(len(schedulers))

    def tick(s, now):
        barrier.wait()
        started.extend(s.tick(now))

    for now in (at, at + dt.timedelta(seconds=30), at + dt.timedelta(seconds=60)):
        threads = [threading.Thread(target=tick, args=(s, now)) for s in schedulers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    slot = int(at.replace(tzinfo=dt.UTC).timestamp()) // 60
    assert sorted(started) == [f"periodic:test.digest:{slot}", f"periodic:test.digest:{slot + 1}"]
    Dispatcher(platform, platform.jobs).drain()
    assert sorted(runs) == sorted(started)
    with platform.engine.connect() as conn:
        lease = conn.execute(sa.select(job_schedule)).one()
    assert (lease.name, lease.slot, lease.every_seconds) == ("test.digest", slot + 1, 60)
