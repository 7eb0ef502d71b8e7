"""Autonumber fields: a counter drawn in the inserting transaction, and a unique index on the
column that the database enforces whatever writes the table."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM
from xrm.core.records.errors import RecordConflict
from xrm.core.records.service import RecordService
from xrm.metadata import store
from xrm.metadata.errors import PlanRefused
from xrm.metadata.planner import AddIndex, Risk

TICKET = {
    "x-xrm": {"name": "desk.ticket"},
    "required": ["title"],
    "properties": {
        "title": {"type": "string"},
        "number": {"x-xrm": {"type": "autonumber", "format": "T-{SEQ:5}"}},
    },
}


@pytest.fixture
def service(registry):
    registry.apply_documents([TICKET])
    return RecordService(registry)


def create(service, title: str) -> dict:
    with service.registry.engine.begin() as conn:
        return service.create(conn, SYSTEM, "desk.ticket", {"title": title})


def numbers(service) -> list[str]:
    with service.registry.engine.connect() as conn:
        t = service.registry.snapshot(conn).entity("desk.ticket").table
        return list(conn.execute(sa.select(t.c.number).order_by(t.c.id)).scalars())


def unique_indexes(engine, table: str = "desk_ticket") -> list[tuple[str, ...]]:
    return [
        tuple(ix["column_names"]) for ix in sa.inspect(engine).get_indexes(table) if ix["unique"]
    ]


def test_an_autonumber_column_has_a_unique_index(service):
    assert ("number",) in unique_indexes(service.registry.engine)


def test_the_database_refuses_a_second_record_with_the_same_number(service):
    create(service, "first")
    # a counter set back by hand (or restored from an older backup) would hand out T-00001
    # again: the index refuses the record instead of storing a duplicate
    with service.registry.engine.begin() as conn:
        conn.execute(store.sequence.update().values(value=0))
    with pytest.raises(RecordConflict, match="number"):
        create(service, "second")
    assert numbers(service) == ["T-00001"]


def test_adding_an_autonumber_field_to_an_entity_with_records_is_a_checked_unique_index(
    registry,
):
    plain = {**TICKET, "properties": {"title": {"type": "string"}}}
    registry.apply_documents([plain])
    service = RecordService(registry)
    with registry.engine.begin() as conn:
        for title in ("a", "b"):
            service.create(conn, SYSTEM, "desk.ticket", {"title": title})
    plan = registry.plan([TICKET])
    [index] = [op for op in plan.operations if isinstance(op, AddIndex)]
    assert (index.columns, index.unique, index.risk_of) == (("number",), True, Risk.CHECKED)
    registry.apply(plan, confirm=True)
    assert ("number",) in unique_indexes(registry.engine)
    assert numbers(service) == [None, None]  # existing records are not numbered: NULLs differ
    assert create(service, "c")["number"] == "T-00001"


def test_renaming_an_autonumber_field_checks_its_values_for_duplicates(registry):
    registry.apply_documents([TICKET])
    service = RecordService(registry)
    create(service, "a")
    create(service, "b")
    # a database whose index was dropped by hand, with a duplicate written behind the platform
    with registry.engine.begin() as conn:
        [name] = [
            ix["name"]
            for ix in sa.inspect(conn).get_indexes("desk_ticket")
            if ix["column_names"] == ["number"]
        ]
        conn.execute(sa.text(f'DROP INDEX "{name}"'))
        conn.execute(sa.text("UPDATE desk_ticket SET number = 'T-00001'"))
    renamed = {
        **TICKET,
        "properties": {
            "title": {"type": "string"},
            "ticket_no": {
                "x-xrm": {"type": "autonumber", "format": "T-{SEQ:5}", "renamedFrom": ["number"]}
            },
        },
    }
    plan = registry.plan([renamed])
    [(_i, check)] = [
        (i, c) for i, c in plan.checks.items() if isinstance(plan.operations[i], AddIndex)
    ]
    assert check["failing"] == 2
    assert check["samples"] == [{"value": ["T-00001"], "count": 2}]
    with pytest.raises(PlanRefused, match="2 row"):
        registry.apply(plan, confirm=True)


def test_two_connections_inserting_at_once_draw_distinct_numbers(service, backend):
    if backend != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (XRM_TEST_DATABASE=postgresql)")
    per_thread = 25
    start = threading.Barrier(2, timeout=30)
    made: dict[str, list[str]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def insert(who: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                made[who].append(create(service, f"{who}{i}")["number"])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=insert, args=(w,)) for w in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    drawn = made["a"] + made["b"]
    assert len(set(drawn)) == 2 * per_thread
    assert sorted(drawn) == [f"T-{n:05d}" for n in range(1, 2 * per_thread + 1)]
    assert sorted(numbers(service)) == sorted(drawn)


def test_a_second_insert_waits_for_the_first_transaction_to_end(service, backend):
    """The counter row stays locked until the inserting transaction ends: the second insert
    waits, and gets the next number whether the first commits or not."""
    if backend != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (XRM_TEST_DATABASE=postgresql)")
    engine = service.registry.engine
    second: dict[str, object] = {}
    drawn = threading.Event()

    def insert_later() -> None:
        drawn.wait(30)
        try:
            second["record"] = create(service, "second")
        except BaseException as exc:  # reported by the assertion below
            second["record"] = exc
        second["at"] = time.monotonic()

    thread = threading.Thread(target=insert_later)
    thread.start()
    with engine.begin() as conn:
        first = service.create(conn, SYSTEM, "desk.ticket", {"title": "first"})
        drawn.set()
        time.sleep(1.0)
        assert "record" not in second  # still waiting on the counter row
        committed_at = time.monotonic()
    thread.join(60)
    assert first["number"] == "T-00001"
    assert isinstance(second["record"], dict), second["record"]
    assert second["record"]["number"] == "T-00002"
    assert second["at"] >= committed_at
