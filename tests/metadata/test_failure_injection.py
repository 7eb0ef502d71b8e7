"""A failure anywhere during apply leaves schema, data, definitions and the version exactly as
they were. The failure is injected with an apply hook, which runs inside the transaction after
all DDL and data changes and just before the version bump."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from xrm.metadata.registry import AppliedChange

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "properties": {
        "name": {"type": "string", "x-xrm": {"unique": True}},
        "size": {"type": "string"},
        "city": {"type": "string", "x-xrm": {"index": True}},
    },
}
CONTACT = {
    "x-xrm": {"name": "crm.contact"},
    "properties": {
        "name": {"type": "string"},
        "account": {"x-xrm": {"type": "reference", "target": "crm.account"}},
    },
}


class InjectedFailure(RuntimeError):
    pass


def with_props(doc: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A copy of ``doc`` whose properties are replaced (None removes one)."""
    new = {**doc, "properties": dict(doc["properties"])}
    for name, prop in props.items():
        if prop is None:
            new["properties"].pop(name)
        else:
            new["properties"][name] = prop
    return new


@pytest.fixture
def populated(registry, records):
    registry.apply(registry.plan([ACCOUNT, CONTACT]))
    a = records.insert("crm.account", name="Acme", size="12", city="Bern")
    records.insert("crm.account", name="Globex", size="7", city="Basel")
    records.insert("crm.contact", name="Ada", account=a)
    return registry


@pytest.fixture
def failing_hook(registry):
    """Register a hook that fails after the DDL; it records what it saw in the transaction."""
    seen: dict[str, Any] = {}

    def hook(conn: sa.Connection, change: AppliedChange) -> None:
        seen["tables"] = set(sa.inspect(conn).get_table_names())
        seen["version"] = change.version
        raise InjectedFailure("injected failure after the DDL")

    registry.apply_hooks.append(hook)
    return seen


def apply_failing(registry, docs=(), **kwargs) -> None:
    plan = registry.plan(docs, removed=kwargs.pop("removed", ()))
    with pytest.raises(InjectedFailure):
        registry.apply(plan, confirm=True, **kwargs)


def test_the_hook_runs_inside_the_transaction_after_the_ddl(registry, failing_hook):
    apply_failing(registry, [ACCOUNT])
    assert "crm_account" in failing_hook["tables"]
    assert failing_hook["version"] == 1


def test_a_failed_create_leaves_no_table_no_definition_and_the_old_version(
    registry, failing_hook, state, engine
):
    before = state(registry)
    apply_failing(registry, [ACCOUNT, CONTACT])
    assert state(registry) == before
    assert registry.version() == 0
    assert "crm.account" not in registry.snapshot()


def test_a_failed_rename_keeps_the_old_column_data_and_definition(populated, failing_hook, state):
    before = state(populated)
    renamed = with_props(
        ACCOUNT,
        name=None,
        title={"type": "string", "x-xrm": {"unique": True, "renamedFrom": "name"}},
    )
    apply_failing(populated, [renamed, CONTACT])
    assert state(populated) == before


def test_a_failed_conversion_keeps_the_old_column_type_and_values(populated, failing_hook, state):
    before = state(populated)
    apply_failing(populated, [with_props(ACCOUNT, size={"type": "integer"}), CONTACT])
    assert state(populated) == before


def test_a_failed_conversion_with_a_null_fallback_keeps_the_old_values(
    populated, records, failing_hook, state
):
    records.insert("crm.account", name="Initech", size="many")
    before = state(populated)
    apply_failing(
        populated,
        [with_props(ACCOUNT, size={"type": "integer"}), CONTACT],
        fallbacks={"crm.account.size": "null"},
    )
    assert state(populated) == before


def test_a_failed_archive_keeps_the_column_and_writes_no_archive_record(
    populated, failing_hook, state
):
    before = state(populated)
    apply_failing(populated, [with_props(ACCOUNT, city=None), CONTACT])
    assert state(populated) == before


def test_a_failed_removal_of_a_reference_keeps_its_foreign_key(populated, failing_hook, state):
    before = state(populated)
    apply_failing(populated, [ACCOUNT, with_props(CONTACT, account=None)])
    assert state(populated) == before


def test_a_failed_new_reference_on_an_existing_table_leaves_the_table_as_it_was(
    populated, failing_hook, state
):
    before = state(populated)
    boss = {"x-xrm": {"type": "reference", "target": "crm.contact", "onDelete": "setNull"}}
    apply_failing(populated, [ACCOUNT, with_props(CONTACT, boss=boss)])
    assert state(populated) == before


def test_a_failed_on_delete_change_keeps_the_old_rule(populated, failing_hook, state):
    before = state(populated)
    cascade = {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "cascade"}}
    apply_failing(populated, [ACCOUNT, with_props(CONTACT, account=cascade)])
    assert state(populated) == before


def test_a_failed_backfill_of_a_default_keeps_the_rows_as_they_were(populated, failing_hook, state):
    before = state(populated)
    stage = {"type": "string", "enum": ["new", "won"], "default": "new"}
    apply_failing(populated, [with_props(ACCOUNT, stage=stage), CONTACT])
    assert state(populated) == before


def test_a_failed_new_index_and_many_to_many_field_leave_no_trace(populated, failing_hook, state):
    before = state(populated)
    tags = {"x-xrm": {"type": "manytomany", "target": "crm.account"}}
    indexed = {"type": "string", "x-xrm": {"index": True}}
    apply_failing(populated, [with_props(ACCOUNT, size=indexed, partners=tags), CONTACT])
    assert state(populated) == before


def test_a_failed_entity_removal_keeps_the_table_and_its_rows(populated, failing_hook, state):
    before = state(populated)
    apply_failing(populated, removed=["crm.contact"])
    assert state(populated) == before
    assert "crm.contact" in populated.snapshot()


def test_a_failed_apply_leaves_the_process_on_the_old_snapshot(populated, failing_hook):
    apply_failing(populated, [with_props(ACCOUNT, size={"type": "integer"}), CONTACT])
    snap = populated.snapshot()
    assert snap.version == 1
    assert snap.entity("crm.account").fields["size"].spec.type == "text"


def test_the_same_plan_applies_cleanly_once_the_failure_is_gone(populated, failing_hook, records):
    docs = [with_props(ACCOUNT, size={"type": "integer"}), CONTACT]
    apply_failing(populated, docs)
    populated.apply_hooks.clear()
    assert populated.apply(populated.plan(docs), confirm=True) == 2
    assert sorted(records.get("crm.account", i)["size"] for i in records.ids("crm.account")) == [
        7,
        12,
    ]


SCENARIOS = {
    "rename": lambda: [
        with_props(
            ACCOUNT,
            name=None,
            title={"type": "string", "x-xrm": {"unique": True, "renamedFrom": "name"}},
        ),
        CONTACT,
    ],
    "conversion": lambda: [with_props(ACCOUNT, size={"type": "integer"}), CONTACT],
    "archive": lambda: [with_props(ACCOUNT, city=None), CONTACT],
    "on-delete": lambda: [
        ACCOUNT,
        with_props(
            CONTACT,
            account={
                "x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "cascade"}
            },
        ),
    ],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_same_changes_do_alter_the_database_when_nothing_fails(populated, state, scenario):
    """Guards the tests above: the state picture does see these changes."""
    before = state(populated)
    populated.apply(populated.plan(SCENARIOS[scenario]()), confirm=True)
    after = state(populated)
    assert after["version"] == before["version"] + 1
    assert after["schema"] != before["schema"]
    assert after["data"] != before["data"]
