"""RecordService.create_many: many records through the steps of create, written set-based."""

from __future__ import annotations

import json
import warnings

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM, Actor
from xrm.core.plugins import RecordVetoed, create_plugin_manager, hookimpl
from xrm.core.records.errors import RecordConflict, RecordError, RecordInvalid
from xrm.core.records.service import RecordService
from xrm.core.security.access import Access
from xrm.core.tables import audit, outbox

ACCOUNT = {
    "x-xrm": {"name": "crm.account", "unique": [["code"]]},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "code": {"type": "string"},
        "size": {"type": "integer", "minimum": 0},
        "number": {"x-xrm": {"type": "autonumber", "format": "A-{SEQ:4}"}},
        "parent": {"x-xrm": {"type": "reference", "target": "crm.account"}},
    },
}


@pytest.fixture
def service(registry):
    registry.apply_documents([ACCOUNT])
    return RecordService(registry)


def create_many(service, rows, actor=SYSTEM, **kw):
    with service.registry.engine.begin() as conn:
        return service.create_many(conn, actor, "crm.account", rows, **kw)


def names(service):
    with service.registry.engine.connect() as conn:
        t = service.registry.snapshot(conn).entity("crm.account").table
        return [r.name for r in conn.execute(sa.select(t.c.name).order_by(t.c.id))]


def test_each_row_becomes_a_record_in_order_with_defaults_and_generated_values(service):
    made = create_many(service, [{"name": "Ann", "size": 3}, {"name": "Bob"}])
    assert [r["name"] for r in made] == ["Ann", "Bob"]
    assert made[0]["id"] < made[1]["id"]
    assert [r["number"] for r in made] == ["A-0001", "A-0002"]
    assert all(r["row_version"] == 1 for r in made)
    assert names(service) == ["Ann", "Bob"]


def test_a_batch_writes_the_audit_entries_and_outbox_messages_that_create_writes(service):
    with service.registry.engine.begin() as conn:
        one = service.create(conn, SYSTEM, "crm.account", {"name": "Ann", "size": 1})
    (many,) = create_many(service, [{"name": "Ann", "size": 1}])
    with service.registry.engine.connect() as conn:
        entries = {r.record_id: json.loads(r.changes) for r in conn.execute(sa.select(audit))}
        messages = {r.record_id: r for r in conn.execute(sa.select(outbox))}
    differ = {"id", "number", "created_at", "updated_at"}

    def alike(d):
        return {k: v for k, v in d.items() if k not in differ}

    assert alike(entries[one["id"]]) == alike(entries[many["id"]])
    assert messages[many["id"]].topic == "record.created"
    assert messages[many["id"]].idempotency_key == f"crm.account:{many['id']}:create:1"
    mine, theirs = json.loads(messages[many["id"]].payload), json.loads(messages[one["id"]].payload)
    assert list(mine) == list(theirs)
    assert alike(mine["record"]) == alike(theirs["record"])


def test_an_atomic_batch_refuses_every_bad_row_by_index_and_writes_nothing(service):
    with pytest.raises(RecordInvalid) as refused:
        create_many(service, [{"name": "Ann"}, {"size": -1}, {"name": "Cid"}, {"name": None}])
    assert str(refused.value).startswith("2 of 4 records refused; record 1:")
    assert {p["index"] for p in refused.value.problems} == {1, 3}
    assert {(p["index"], p["field"]) for p in refused.value.problems} >= {(1, "size"), (3, "name")}
    assert names(service) == []


def test_a_batch_that_is_not_atomic_writes_the_good_rows_and_returns_the_errors(service):
    made = create_many(
        service, [{"name": "Ann"}, {"name": "Bob", "parent": 999}, {"name": "Cid"}], atomic=False
    )
    assert made[0]["name"] == "Ann" and made[2]["name"] == "Cid"
    assert isinstance(made[1], RecordInvalid)
    assert made[1].problems[0]["field"] == "parent"
    assert names(service) == ["Ann", "Cid"]


def test_a_unique_value_repeated_within_the_batch_names_the_first_row(service):
    made = create_many(
        service,
        [
            {"name": "Ann", "code": "A"},
            {"name": "Bob", "code": "B"},
            {"name": "Ann 2", "code": "A"},
        ],
        atomic=False,
        names=["row 2", "row 3", "row 4"],
    )
    assert isinstance(made[2], RecordConflict)
    assert str(made[2]) == "row 2 has the same Code"
    assert names(service) == ["Ann", "Bob"]


def test_a_unique_value_of_an_existing_record_is_a_conflict(service):
    (ann,) = create_many(service, [{"name": "Ann", "code": "A"}])
    made = create_many(service, [{"name": "Bob", "code": "A"}], atomic=False)
    assert str(made[0]) == f"crm.account {ann['id']} already has the same Code"


def test_references_to_records_of_the_same_batch_are_not_possible_but_to_earlier_ones_are(
    service,
):
    (ann,) = create_many(service, [{"name": "Ann"}])
    made = create_many(service, [{"name": "Bob", "parent": ann["id"]}])
    assert made[0]["parent"] == ann["id"]


def test_a_dry_run_checks_every_row_and_writes_nothing(service):
    made = create_many(
        service,
        [{"name": "Ann", "size": "3"}, {"size": 2}],
        dry_run=True,
        atomic=False,
        lenient=True,
    )
    assert not isinstance(made[0], RecordError) and made[0]["size"] == 3
    assert isinstance(made[1], RecordInvalid)
    assert names(service) == []


def test_seen_values_carry_duplicates_across_calls(service):
    seen: dict = {}
    first = create_many(
        service, [{"name": "Ann", "code": "A"}], dry_run=True, names=["row 2"], seen=seen
    )
    assert first[0]["code"] == "A"
    made = create_many(
        service,
        [{"name": "Bob", "code": "A"}],
        dry_run=True,
        atomic=False,
        names=["row 9"],
        seen=seen,
    )
    assert str(made[0]) == "row 2 has the same Code"


def test_field_rights_apply_to_every_row(service):
    rep = Actor(user_id=7, username="rep", roles=("Rep",))
    access = Access(
        actor=rep,
        grants=frozenset({("crm.account", "read"), ("crm.account", "create")}),
        secured={"crm.account": {"size": (True, False)}},
    )
    made = create_many(
        service, [{"name": "Ann"}, {"name": "Bob", "size": 3}], rep, access=access, atomic=False
    )
    assert made[0]["name"] == "Ann"
    assert made[1].problems == [
        {"pointer": "/size", "field": "size", "message": "you may not write Size"}
    ]


class _RulesThatDoNothing:
    """A workflow and rules step with nothing to do: the record service then prepares each
    record alone (it validates column by column only when no rule concerns the entity)."""

    def before_create(self, *args, **kwargs) -> None:
        pass

    before_update = after_write = after_delete = after_restore = before_create


MIXED = [
    {"name": "Ann", "size": 3},
    {"name": "Bob", "size": "7"},
    {"name": "Cid", "size": -1},
    {"size": 2},
    {"name": None},
    {"name": "Dan", "nope": 1},
    {"name": "Eve", "number": "A-9"},
    {"name": "Fay", "id": 5, "owner_id": 3},
    {"name": "Gus", "size": None, "code": "G"},
    {"name": "Hal", "size": True, "parent": "x"},
]


def _outcomes(results):
    return [
        (type(r).__name__, str(r), r.problems) if isinstance(r, RecordError) else r for r in results
    ]


@pytest.mark.parametrize("lenient", [False, True])
def test_a_batch_is_checked_column_by_column_as_each_record_alone_would_be(registry, lenient):
    registry.apply_documents([ACCOUNT])
    rep = Actor(user_id=7, username="rep", roles=("Rep",))
    access = Access(
        actor=rep,
        grants=frozenset({("crm.account", "read"), ("crm.account", "create")}),
        secured={"crm.account": {"code": (True, False)}},
    )
    outcomes = {}
    for way, rules in (("columns", None), ("alone", _RulesThatDoNothing())):
        service = RecordService(registry, rules=rules)
        for who, kw in (("admin", {}), ("rep", {"actor": rep, "access": access})):
            outcomes[way, who] = _outcomes(
                create_many(service, MIXED, atomic=False, dry_run=True, lenient=lenient, **kw)
            )
    assert outcomes["columns", "admin"] == outcomes["alone", "admin"]
    assert outcomes["columns", "rep"] == outcomes["alone", "rep"]
    refused = [n for n, r in enumerate(outcomes["columns", "admin"]) if isinstance(r, tuple)]
    assert refused == ([2, 3, 4, 5, 6, 9] if lenient else [1, 2, 3, 4, 5, 6, 9])
    assert outcomes["columns", "rep"][8][0] == "AccessDenied"


def test_hooks_run_per_record_and_a_veto_refuses_only_its_row(registry):
    seen_after = []

    class NoBobs:
        @hookimpl
        def xrm_before_create(self, event):
            if event.values["name"] == "Bob":
                raise RecordVetoed("no Bobs", field="name")
            event.values["size"] = 42

        @hookimpl
        def xrm_after_create(self, event):
            seen_after.append((event.record_id, event.after["name"]))

    registry.apply_documents([ACCOUNT])
    hooks = create_plugin_manager(discover=False, extra={"no_bobs": NoBobs()}).hook
    service = RecordService(registry, hooks=hooks)
    made = create_many(service, [{"name": "Ann"}, {"name": "Bob"}, {"name": "Cid"}], atomic=False)
    assert isinstance(made[1], RecordVetoed)
    assert [r["size"] for r in (made[0], made[2])] == [42, 42]
    assert seen_after == [(made[0]["id"], "Ann"), (made[2]["id"], "Cid")]
    with pytest.raises(RecordVetoed):
        create_many(service, [{"name": "Dan"}, {"name": "Bob"}])
    assert names(service) == ["Ann", "Cid"]


@pytest.mark.parametrize("how", ["create_many", "update_many"])
def test_an_unexpected_error_leaves_no_savepoint_open_for_the_caller(service, how):
    """An error that is not a refusal (here the database failing the batch's statement)
    propagates out of a per-record batch; the batch's own savepoint is rolled back on the way,
    so the caller can roll back its savepoint and go on without SQLAlchemy finding a savepoint
    still in its way."""
    (kept,) = create_many(service, [{"name": "Kept"}])
    verb = "INSERT INTO" if how == "create_many" else "UPDATE"

    def failing(conn, cursor, statement, *args):
        if statement.startswith(f"{verb} crm_account"):
            raise sa.exc.OperationalError(statement, (), Exception("disk I/O error"))

    engine = service.registry.engine
    with engine.begin() as conn:
        outer = conn.begin_nested()
        sa.event.listen(engine, "before_cursor_execute", failing)
        try:
            with pytest.raises(sa.exc.OperationalError), warnings.catch_warnings():
                warnings.simplefilter("error", sa.exc.SAWarning)
                if how == "create_many":
                    rows = [{"name": "Ann"}, {"name": "Bob"}]
                    service.create_many(conn, SYSTEM, "crm.account", rows, atomic=False)
                else:
                    changes = [(kept["id"], {"code": "x"})]
                    assert service.update_many(conn, SYSTEM, "crm.account", changes, atomic=False)
        finally:
            sa.event.remove(engine, "before_cursor_execute", failing)
        with warnings.catch_warnings():
            warnings.simplefilter("error", sa.exc.SAWarning)
            outer.rollback()
        assert not conn.in_nested_transaction()
        service.create(conn, SYSTEM, "crm.account", {"name": "After"})
    assert names(service) == ["Kept", "After"]


# -- update_many: the set-based bulk update ----------------------------------------------------


def test_update_many_writes_what_update_writes(service):
    a, b, c = create_many(service, [{"name": "A"}, {"name": "B"}, {"name": "C", "code": "c"}])
    with service.registry.engine.begin() as conn:
        one = service.update(conn, SYSTEM, "crm.account", a["id"], {"size": 5, "code": "x"})
        many = service.update_many(
            conn, SYSTEM, "crm.account", [(b["id"], {"size": 5, "code": "y"}), (c["id"], {})]
        )
    assert [(r["size"], r["code"], r["row_version"]) for r in many] == [(5, "y", 2), (None, "c", 2)]
    with service.registry.engine.connect() as conn:
        entries = {
            r.record_id: json.loads(r.changes)
            for r in conn.execute(sa.select(audit).where(audit.c.action == "update"))
        }
        messages = {
            r.record_id: r
            for r in conn.execute(sa.select(outbox).where(outbox.c.topic == "record.updated"))
        }
    assert entries[one["id"]] == {"size": [None, 5], "code": [None, "x"]}
    assert entries[b["id"]] == {"size": [None, 5], "code": [None, "y"]}
    assert c["id"] in messages and entries.get(c["id"]) == {}
    assert messages[b["id"]].idempotency_key == f"crm.account:{b['id']}:update:2"
    mine, theirs = json.loads(messages[b["id"]].payload), json.loads(messages[one["id"]].payload)
    assert list(mine) == list(theirs)
    assert mine["record"]["size"] == 5 and mine["changes"]["code"][1] == "y"
    assert names(service) == ["A", "B", "C"]


def test_update_many_atomic_refuses_every_bad_record_and_writes_nothing(service):
    a, b, c = create_many(service, [{"name": "A", "code": "a"}, {"name": "B"}, {"name": "C"}])
    with service.registry.engine.begin() as conn:
        got = service.update_many(
            conn,
            SYSTEM,
            "crm.account",
            [
                (a["id"], {"size": -1}),
                (b["id"], {"code": "a"}),
                (c["id"], {"name": "C2"}),
                (10**6, {}),
            ],
        )
    assert [type(r).__name__ for r in got] == [
        "RecordInvalid",
        "RecordConflict",
        "NoneType",
        "RecordNotFound",
    ]
    assert names(service) == ["A", "B", "C"]
    with service.registry.engine.begin() as conn:
        got = service.update_many(
            conn,
            SYSTEM,
            "crm.account",
            [(a["id"], {"size": -1}), (c["id"], {"name": "C2"})],
            atomic=False,
        )
    assert isinstance(got[0], RecordInvalid) and got[1]["name"] == "C2"
    assert names(service) == ["A", "B", "C2"]


def test_update_many_leaves_to_update_what_it_cannot_batch(registry):
    class Hooks:
        @hookimpl
        def xrm_after_update(self, event):
            pass

    registry.apply_documents([ACCOUNT])
    pm = create_plugin_manager()
    pm.register(Hooks())
    plain, hooked = RecordService(registry), RecordService(registry, hooks=pm.hook)
    (a,) = create_many(plain, [{"name": "A"}])
    with registry.engine.begin() as conn:
        assert (
            plain.update_many(conn, SYSTEM, "crm.account", [(a["id"], {}), (a["id"], {})]) is None
        )
        assert hooked.update_many(conn, SYSTEM, "crm.account", [(a["id"], {"size": 1})]) is None
        reader = Actor(user_id=7, username="r", roles=("r",))
        assert (
            plain.update_many(
                conn, reader, "crm.account", [(a["id"], {"size": 1})], access=Access(actor=reader)
            )
            is None
        )
    assert names(plain) == ["A"]
