"""Removed fields are archived, restorable by defining them again, and gone only when purged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM
from xrm.core.records.service import RecordService
from xrm.metadata.errors import PlanRefused

ACCOUNT = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}


def contact(**extra):
    props = {"name": {"type": "string"}, **extra}
    return {"x-xrm": {"name": "crm.contact"}, "properties": props}


REF = {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "cascade"}}


def columns(engine, table):
    with engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_defining_a_removed_field_again_restores_its_data(registry, engine):
    registry.apply(registry.plan([contact(age={"type": "integer"})]))
    with engine.begin() as conn:
        rid = RecordService(registry).create(
            conn, SYSTEM, "crm.contact", {"name": "Ann", "age": 41}
        )["id"]
    registry.apply(registry.plan([contact()]), confirm=True)
    plan = registry.plan([contact(age={"type": "integer"})])
    assert [op.kind for op in plan.operations if op.kind.endswith("_field")] == ["restore_field"]
    registry.apply(plan)
    with engine.connect() as conn:
        assert RecordService(registry).get(conn, SYSTEM, "crm.contact", rid)["age"] == 41


def test_a_removed_field_defined_again_with_another_type_starts_empty(registry, engine):
    registry.apply(registry.plan([contact(age={"type": "integer"})]))
    registry.apply(registry.plan([contact()]), confirm=True)
    plan = registry.plan([contact(age={"type": "string"})])
    assert "add_field" in [op.kind for op in plan.operations]


def test_a_restored_reference_is_a_real_foreign_key_again(registry, engine):
    registry.apply(registry.plan([ACCOUNT, contact(account=REF)]))
    rs = RecordService(registry)
    with engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        rs.create(conn, SYSTEM, "crm.contact", {"name": "Bob", "account": acc})
    registry.apply(registry.plan([ACCOUNT, contact()]), confirm=True)
    registry.apply(registry.plan([ACCOUNT, contact(account=REF)]))
    with engine.begin() as conn:  # a physical delete: the database's own ON DELETE CASCADE acts
        conn.execute(sa.text("DELETE FROM crm_account WHERE id = :id"), {"id": acc})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM crm_contact")).scalar() == 0


def test_purging_a_field_drops_its_archived_column_and_nothing_else(registry, engine):
    registry.apply(registry.plan([ACCOUNT, contact(account=REF, age={"type": "integer"})]))
    rs = RecordService(registry)
    with engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        rs.create(conn, SYSTEM, "crm.contact", {"name": "Bob", "account": acc, "age": 3})
    registry.apply(registry.plan([ACCOUNT, contact(account=REF)]), confirm=True)
    archived = {c for c in columns(engine, "crm_contact") if c.startswith("xa_")}
    assert len(archived) == 1
    assert registry.purge("crm.contact", "age") == 1
    assert not {c for c in columns(engine, "crm_contact") if c.startswith("xa_")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM crm_contact")).scalar() == 1


def test_purging_on_a_referenced_table_never_fires_cascades(registry, engine):
    # crm_account is rebuilt on SQLite; its children must survive (foreign keys off meanwhile).
    acct = {
        "x-xrm": {"name": "crm.account"},
        "properties": {"name": {"type": "string"}, "old": {"type": "string"}},
    }
    registry.apply(registry.plan([acct, contact(account=REF)]))
    rs = RecordService(registry)
    with engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme", "old": "x"})["id"]
        rs.create(conn, SYSTEM, "crm.contact", {"name": "Bob", "account": acc})
    registry.apply(registry.plan([ACCOUNT, contact(account=REF)]), confirm=True)
    registry.purge("crm.account")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM crm_contact")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM crm_account")).scalar() == 1


def test_converting_a_field_keeps_a_unique_constraint_over_several_fields(registry, engine):
    doc = {
        "x-xrm": {"name": "crm.item", "unique": [["code", "size"]]},
        "properties": {"code": {"type": "string"}, "size": {"type": "string"}},
    }
    registry.apply(registry.plan([doc]))
    rs = RecordService(registry)
    with engine.begin() as conn:
        rs.create(conn, SYSTEM, "crm.item", {"code": "A", "size": "1"})
    doc2 = {**doc, "properties": {"code": {"type": "string"}, "size": {"type": "integer"}}}
    registry.apply(registry.plan([doc2]), confirm=True)
    with engine.connect() as conn:
        uniques = [ix for ix in sa.inspect(conn).get_indexes("crm_item") if ix["unique"]]
    assert [sorted(ix["column_names"]) for ix in uniques] == [["code", "size"]]
    with engine.begin() as conn, pytest.raises(Exception):  # noqa: B017 - refused by the service
        rs.create(conn, SYSTEM, "crm.item", {"code": "A", "size": 1})


def test_boolean_converts_to_integer(registry, engine):
    doc = {"x-xrm": {"name": "crm.flag"}, "properties": {"on": {"type": "boolean"}}}
    registry.apply(registry.plan([doc]))
    with engine.begin() as conn:
        rid = RecordService(registry).create(conn, SYSTEM, "crm.flag", {"on": True})["id"]
    registry.apply(registry.plan([{**doc, "properties": {"on": {"type": "integer"}}}]))
    with engine.connect() as conn:
        assert RecordService(registry).get(conn, SYSTEM, "crm.flag", rid)["on"] == 1


def test_purge_of_an_entity_without_archived_fields_does_nothing(registry):
    registry.apply(registry.plan([ACCOUNT]))
    assert registry.purge("crm.account") == 0


def test_a_refused_plan_keeps_the_archive(registry, engine):
    registry.apply(registry.plan([contact(age={"type": "integer"})]))
    registry.apply(registry.plan([contact()]), confirm=True)
    with pytest.raises(PlanRefused):
        registry.apply(
            registry.plan(
                [
                    contact(
                        age={"type": "integer"}, extra={"type": "string"}, name={"type": "integer"}
                    )
                ]
            )
        )
    assert any(c.startswith("xa_") for c in columns(engine, "crm_contact"))
