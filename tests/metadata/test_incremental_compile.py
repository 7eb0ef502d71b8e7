"""Snapshots are compiled incrementally: a new version reuses the compiled entities whose
definition, and the definitions of the entities they reference, did not change. Snapshots stay
immutable: a request still holding the previous snapshot sees exactly what it saw before."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from xrm.metadata.compiler import CompiledEntity, compile_snapshot
from xrm.metadata.model import parse_definition
from xrm.metadata.registry import MetadataRegistry

ACCOUNT = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}
TAG = {"x-xrm": {"name": "crm.tag"}, "properties": {"label": {"type": "string"}}}
CONTACT = {
    "x-xrm": {"name": "crm.contact"},
    "properties": {
        "name": {"type": "string"},
        "account": {"x-xrm": {"type": "reference", "target": "crm.account"}},
        "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
    },
}
NOTE = {"x-xrm": {"name": "crm.note"}, "properties": {"text": {"x-xrm": {"type": "longtext"}}}}


def with_field(doc: dict[str, Any], name: str, prop: dict[str, Any] | None = None) -> dict:
    return {**doc, "properties": {**doc["properties"], name: prop or {"type": "string"}}}


def picture(ce: CompiledEntity) -> dict[str, Any]:
    """Everything a request may read from a compiled entity's tables and fields."""
    tables = [ce.table, *ce.associations.values()]
    return {
        "definition": ce.definition,
        "fields": list(ce.fields),
        "tables": {
            t.name: {
                "columns": [(c.name, str(c.type), c.nullable) for c in t.c],
                "indexes": sorted((ix.name, tuple(c.name for c in ix.columns)) for ix in t.indexes),
                "foreign_keys": sorted(
                    (fk.parent.name, fk.column.table.name, fk.ondelete) for fk in t.foreign_keys
                ),
            }
            for t in tables
        },
        "metadata": sorted(
            (t.name, tuple(c.name for c in t.c)) for t in ce.table.metadata.tables.values()
        ),
    }


def test_an_unchanged_entity_is_shared_and_a_changed_one_compiled_again(registry):
    registry.apply(registry.plan([ACCOUNT, TAG, CONTACT, NOTE]))
    before = registry.snapshot()
    registry.apply(registry.plan([with_field(NOTE, "subject")]))
    after = registry.snapshot()
    assert after.version == before.version + 1
    for name in ("crm.account", "crm.tag", "crm.contact"):
        assert after.entity(name) is before.entity(name)
    assert after.entity("crm.note") is not before.entity("crm.note")
    assert "subject" in after.entity("crm.note").table.c
    assert "subject" not in before.entity("crm.note").table.c


def test_a_changed_referenced_entity_recompiles_the_entities_that_reference_it(registry):
    registry.apply(registry.plan([ACCOUNT, TAG, CONTACT, NOTE]))
    before = registry.snapshot()
    registry.apply(registry.plan([with_field(ACCOUNT, "website")]))
    after = registry.snapshot()
    assert after.entity("crm.account") is not before.entity("crm.account")
    assert after.entity("crm.contact") is not before.entity("crm.contact")  # references it
    assert after.entity("crm.tag") is before.entity("crm.tag")
    assert after.entity("crm.note") is before.entity("crm.note")
    # ... and so does a changed many-to-many target.
    registry.apply(registry.plan([with_field(TAG, "color")]))
    last = registry.snapshot()
    assert last.entity("crm.contact") is not after.entity("crm.contact")
    assert last.entity("crm.account") is after.entity("crm.account")
    assert last.entity("crm.note") is after.entity("crm.note")


def test_only_direct_references_count_not_references_of_references():
    docs = {
        "t.a": {"x-xrm": {"name": "t.a"}, "properties": {"n": {"type": "string"}}},
        "t.b": {
            "x-xrm": {"name": "t.b"},
            "properties": {"a": {"x-xrm": {"type": "reference", "target": "t.a"}}},
        },
        "t.c": {
            "x-xrm": {"name": "t.c"},
            "properties": {"b": {"x-xrm": {"type": "reference", "target": "t.b"}}},
        },
    }
    first = compile_snapshot(1, [parse_definition(d) for d in docs.values()])
    changed = {**docs, "t.a": with_field(docs["t.a"], "m")}
    second = compile_snapshot(2, [parse_definition(d) for d in changed.values()], previous=first)
    assert second.entity("t.a") is not first.entity("t.a")
    assert second.entity("t.b") is not first.entity("t.b")
    assert second.entity("t.c") is first.entity("t.c")


def test_removing_or_creating_a_referenced_entity_recompiles_its_dependents():
    a = parse_definition({"x-xrm": {"name": "t.a"}, "properties": {"n": {"type": "string"}}})
    b = parse_definition(
        {
            "x-xrm": {"name": "t.b"},
            "properties": {"a": {"x-xrm": {"type": "reference", "target": "t.a"}}},
        }
    )
    with_a = compile_snapshot(1, [a, b])
    without_a = compile_snapshot(2, [b], previous=with_a)
    assert without_a.entity("t.b") is not with_a.entity("t.b")
    again = compile_snapshot(3, [a, b], previous=without_a)
    assert again.entity("t.b") is not without_a.entity("t.b")
    assert again.entity("t.a") is not with_a.entity("t.a")  # not in the previous snapshot
    same = compile_snapshot(4, [a, b], previous=again)
    assert same.entity("t.a") is again.entity("t.a") and same.entity("t.b") is again.entity("t.b")


def test_a_changed_option_set_recompiles_the_entities_using_it(registry):
    stage = {"name": "crm.stage", "options": [{"value": "new"}, {"value": "won"}]}
    deal = {
        "x-xrm": {"name": "crm.deal"},
        "properties": {"stage": {"x-xrm": {"type": "choice", "optionSet": "crm.stage"}}},
    }
    registry.apply(registry.plan([stage, deal, NOTE]))
    before = registry.snapshot()
    grown = {**stage, "options": [*stage["options"], {"value": "lost"}]}
    registry.apply(registry.plan([grown]))
    after = registry.snapshot()
    assert after.entity("crm.deal") is not before.entity("crm.deal")
    assert after.entity("crm.note") is before.entity("crm.note")
    ok, problems = after.entity("crm.deal").validate({"stage": "lost"})
    assert not problems and ok == {"stage": "lost"}
    assert before.entity("crm.deal").validate({"stage": "lost"})[1]  # old snapshot: old enum


def test_a_request_holding_the_old_snapshot_sees_exactly_what_it_saw_before(
    registry, records, engine
):
    registry.apply(registry.plan([ACCOUNT, TAG, CONTACT, NOTE]))
    old = registry.snapshot()
    acme = records.insert("crm.account", name="Acme")
    pictures = {n: picture(ce) for n, ce in old.entities.items()}
    entities = dict(old.entities)
    # Every kind of change: a changed entity, one whose target changed, a new and a removed one.
    registry.apply(
        registry.plan(
            [
                with_field(ACCOUNT, "website"),
                with_field(CONTACT, "email"),
                {"x-xrm": {"name": "crm.lead"}, "properties": {"name": {"type": "string"}}},
            ]
        )
    )
    registry.apply(registry.plan(removed=["crm.note"]), confirm=True)
    new = registry.snapshot()
    assert new.version == old.version + 2 and "crm.note" not in new and "crm.lead" in new
    assert dict(old.entities) == entities
    assert {n: picture(ce) for n, ce in old.entities.items()} == pictures
    # The old tables still serve the columns they knew.
    t = old.entity("crm.account").table
    with engine.connect() as conn:
        assert conn.execute(sa.select(t.c.id, t.c.name)).all() == [(acme, "Acme")]


def test_another_process_reuses_what_it_compiled_and_does_not_parse_unchanged_definitions(
    registry,
):
    registry.apply(registry.plan([ACCOUNT, TAG, CONTACT, NOTE]))
    other = MetadataRegistry(registry.engine)  # a second process on the same database
    before = other.snapshot()
    registry.apply(registry.plan([with_field(NOTE, "subject")]))
    after = other.snapshot()
    assert after.version == before.version + 1
    assert after.entity("crm.note") is not before.entity("crm.note")
    assert "subject" in after.entity("crm.note").fields
    for name in ("crm.account", "crm.tag", "crm.contact"):
        assert after.entity(name) is before.entity(name)
        assert after.entity(name).definition is before.entity(name).definition


def test_tables_are_built_on_first_use_once_also_when_many_requests_ask_at_once(registry):
    registry.apply(registry.plan([ACCOUNT, TAG, CONTACT]))
    fresh = MetadataRegistry(registry.engine).snapshot()
    ce = fresh.entity("crm.contact")
    assert not ce.tables_built
    barrier = threading.Barrier(8)
    seen: list[tuple[int, int]] = []

    def ask() -> None:
        barrier.wait()
        seen.append((id(ce.table), id(ce.associations["tags"])))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert ce.tables_built


def test_a_compiled_entity_owns_its_tables_and_a_stand_in_for_each_referenced_table(registry):
    registry.apply(registry.plan([ACCOUNT, TAG, CONTACT]))
    snap = registry.snapshot()
    contact, account = snap.entity("crm.contact"), snap.entity("crm.account")
    assert contact.table.metadata is not account.table.metadata
    assert sorted(contact.table.metadata.tables) == [
        "crm_account",
        "crm_contact",
        "crm_contact__tags",
        "crm_tag",
    ]
    stand_in = contact.table.metadata.tables["crm_account"]
    assert [c.name for c in stand_in.c] == ["id"]
    [fk] = contact.table.c.account.foreign_keys
    assert fk.column is stand_in.c.id


def test_entities_that_reference_each_other_are_created_in_one_change(registry, engine, records):
    a = {
        "x-xrm": {"name": "tt.alpha"},
        "properties": {
            "name": {"type": "string"},
            "beta": {"x-xrm": {"type": "reference", "target": "tt.beta", "onDelete": "setNull"}},
        },
    }
    b = {
        "x-xrm": {"name": "tt.beta"},
        "properties": {
            "name": {"type": "string"},
            "alpha": {"x-xrm": {"type": "reference", "target": "tt.alpha", "onDelete": "setNull"}},
            "alphas": {"x-xrm": {"type": "manytomany", "target": "tt.alpha"}},
        },
    }
    registry.apply(registry.plan([a, b]))
    insp = sa.inspect(engine)
    assert [fk["referred_table"] for fk in insp.get_foreign_keys("tt_alpha")] == ["tt_beta"]
    assert [fk["referred_table"] for fk in insp.get_foreign_keys("tt_beta")] == ["tt_alpha"]
    x = records.insert("tt.alpha", name="x")
    y = records.insert("tt.beta", name="y", alpha=x, alphas=[x])
    assert records.get("tt.beta", y)["alpha"] == x
