"""Relations are real foreign keys: the database enforces them and their on-delete rules, also
after fields are added, changed, converted or removed later."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from xrm.metadata.errors import PlanRefused

ACCOUNT = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}


def contact(on_delete: str | None = None, **extra: Any) -> dict[str, Any]:
    ref: dict[str, Any] = {"type": "reference", "target": "crm.account"}
    if on_delete:
        ref["onDelete"] = on_delete
    return {
        "x-xrm": {"name": "crm.contact"},
        "properties": {"name": {"type": "string"}, "account": {"x-xrm": ref}, **extra},
    }


def delete(engine, table: str, record_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {table} WHERE id = :id"), {"id": record_id})


def foreign_keys(engine, table: str) -> dict[str, tuple[str, str | None]]:
    return {
        fk["constrained_columns"][0]: (
            fk["referred_table"],
            (fk.get("options") or {}).get("ondelete"),
        )
        for fk in sa.inspect(engine).get_foreign_keys(table)
    }


@pytest.fixture
def linked(registry, records):
    """Build crm.account and crm.contact (with the given on-delete rule), one contact linked."""

    def build(on_delete: str | None = None) -> tuple[int, int]:
        registry.apply(registry.plan([ACCOUNT, contact(on_delete)]))
        a = records.insert("crm.account", name="Acme")
        c = records.insert("crm.contact", name="Ada", account=a)
        return a, c

    return build


def test_a_reference_is_a_foreign_key_in_the_database(registry, engine, linked):
    linked()
    assert foreign_keys(engine, "crm_contact") == {"account": ("crm_account", "RESTRICT")}


def test_a_reference_to_a_record_that_does_not_exist_is_refused_by_the_database(
    registry, records, linked
):
    linked()
    with pytest.raises(sa.exc.IntegrityError):
        records.insert("crm.contact", name="Bob", account=999)


def test_deleting_a_referenced_record_is_restricted_by_default(engine, records, linked):
    a, _c = linked()
    with pytest.raises(sa.exc.IntegrityError):
        delete(engine, "crm_account", a)
    assert records.get("crm.account", a) is not None


def test_deleting_a_referenced_record_cascades_when_asked(engine, records, linked):
    a, c = linked("cascade")
    delete(engine, "crm_account", a)
    assert records.get("crm.contact", c) is None


def test_deleting_a_referenced_record_empties_the_reference_with_set_null(engine, records, linked):
    a, c = linked("setNull")
    delete(engine, "crm_account", a)
    assert records.get("crm.contact", c)["account"] is None


def test_a_reference_added_to_an_existing_table_is_a_real_foreign_key(registry, records, engine):
    plain = contact()
    del plain["properties"]["account"]
    registry.apply(registry.plan([ACCOUNT, plain]))
    records.insert("crm.contact", name="Ada")
    registry.apply(registry.plan([ACCOUNT, contact("cascade")]))
    assert foreign_keys(engine, "crm_contact") == {"account": ("crm_account", "CASCADE")}
    a = records.insert("crm.account", name="Acme")
    c = records.insert("crm.contact", name="Bob", account=a)
    with pytest.raises(sa.exc.IntegrityError):
        records.insert("crm.contact", name="Eve", account=999)
    delete(engine, "crm_account", a)
    assert records.get("crm.contact", c) is None


def test_changing_the_on_delete_rule_changes_what_the_database_does(
    registry, engine, records, linked
):
    a, c = linked("restrict")
    registry.apply(registry.plan([ACCOUNT, contact("cascade")]))
    assert foreign_keys(engine, "crm_contact") == {"account": ("crm_account", "CASCADE")}
    delete(engine, "crm_account", a)
    assert records.get("crm.contact", c) is None


def test_changing_the_on_delete_rule_keeps_the_data_and_indexes(registry, engine, records, linked):
    a, c = linked("restrict")
    indexes_before = sorted(ix["name"] for ix in sa.inspect(engine).get_indexes("crm_contact"))
    registry.apply(registry.plan([ACCOUNT, contact("setNull")]))
    assert records.get("crm.contact", c)["account"] == a
    assert sorted(ix["name"] for ix in sa.inspect(engine).get_indexes("crm_contact")) == (
        indexes_before
    )


def test_removing_a_reference_drops_its_foreign_key_and_archives_the_values(
    registry, engine, records, linked
):
    a, c = linked()
    plain = contact()
    del plain["properties"]["account"]
    registry.apply(registry.plan([ACCOUNT, plain]), confirm=True)
    assert foreign_keys(engine, "crm_contact") == {}
    [row] = records.raw("crm_contact")
    assert row["xa_2_account"] == a
    delete(engine, "crm_account", a)
    record = records.get("crm.contact", c)
    assert record["name"] == "Ada"
    assert "account" not in record


def test_converting_a_reference_to_a_number_keeps_the_ids_and_drops_the_foreign_key(
    registry, engine, records, linked
):
    a, c = linked()
    doc = contact()
    doc["properties"]["account"] = {"x-xrm": {"type": "bigint"}}
    registry.apply(registry.plan([ACCOUNT, doc]), confirm=True)
    assert records.get("crm.contact", c)["account"] == a
    assert "account" not in foreign_keys(engine, "crm_contact")


def test_converting_a_number_to_a_reference_adds_the_foreign_key(registry, engine, records):
    doc = contact()
    doc["properties"]["account"] = {"x-xrm": {"type": "bigint"}}
    registry.apply(registry.plan([ACCOUNT, doc]))
    a = records.insert("crm.account", name="Acme")
    c = records.insert("crm.contact", name="Ada", account=a)
    registry.apply(registry.plan([ACCOUNT, contact("cascade")]), confirm=True)
    assert foreign_keys(engine, "crm_contact")["account"] == ("crm_account", "CASCADE")
    assert records.get("crm.contact", c)["account"] == a


def numbers_pointing_nowhere(registry, records) -> tuple[int, int]:
    doc = contact()
    doc["properties"]["account"] = {"x-xrm": {"type": "bigint"}}
    registry.apply(registry.plan([ACCOUNT, doc]))
    a = records.insert("crm.account", name="Acme")
    good = records.insert("crm.contact", name="Ada", account=a)
    bad = records.insert("crm.contact", name="Bob", account=999)
    return good, bad


def test_converting_numbers_that_point_nowhere_into_a_reference_is_refused_with_a_report(
    registry, records, state
):
    _good, bad = numbers_pointing_nowhere(registry, records)
    before = state(registry)
    plan = registry.plan([ACCOUNT, contact()])
    [check] = plan.checks.values()
    assert check["failing"] == 1
    assert check["samples"] == [
        {"id": bad, "value": 999, "message": "no crm.account record has the id 999"}
    ]
    with pytest.raises(PlanRefused):
        registry.apply(plan, confirm=True)
    assert state(registry) == before


def test_a_null_fallback_empties_numbers_that_point_nowhere_when_they_become_a_reference(
    registry, records
):
    good, bad = numbers_pointing_nowhere(registry, records)
    registry.apply(
        registry.plan([ACCOUNT, contact()]),
        confirm=True,
        fallbacks={"crm.contact.account": "null"},
    )
    assert records.get("crm.contact", good)["account"] is not None
    assert records.get("crm.contact", bad)["account"] is None


def test_a_reference_added_later_can_get_a_new_on_delete_rule_and_be_removed(
    registry, engine, records
):
    plain = contact()
    del plain["properties"]["account"]
    registry.apply(registry.plan([ACCOUNT, plain]))
    registry.apply(registry.plan([ACCOUNT, contact("cascade")]))
    registry.apply(registry.plan([ACCOUNT, contact("setNull")]))
    assert foreign_keys(engine, "crm_contact") == {"account": ("crm_account", "SET NULL")}
    registry.apply(registry.plan([ACCOUNT, plain]), confirm=True)
    assert foreign_keys(engine, "crm_contact") == {}


def test_a_reference_to_its_own_entity_is_a_foreign_key_to_its_own_table(registry, engine, records):
    doc = {
        "x-xrm": {"name": "crm.account"},
        "properties": {
            "name": {"type": "string"},
            "parent": {
                "x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "cascade"}
            },
        },
    }
    registry.apply(registry.plan([doc]))
    top = records.insert("crm.account", name="Group")
    child = records.insert("crm.account", name="Branch", parent=top)
    delete(engine, "crm_account", top)
    assert records.get("crm.account", child) is None


# -- many-to-many -----------------------------------------------------------------------------

TAG = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}


def tagged_account() -> dict[str, Any]:
    return {
        "x-xrm": {"name": "crm.account"},
        "properties": {
            "name": {"type": "string"},
            "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
        },
    }


def test_many_to_many_is_stored_in_an_association_table_with_two_foreign_keys(registry, engine):
    registry.apply(registry.plan([TAG, tagged_account()]))
    assert foreign_keys(engine, "crm_account__tags") == {
        "source_id": ("crm_account", "CASCADE"),
        "target_id": ("crm_tag", "CASCADE"),
    }


def test_deleting_either_side_of_a_many_to_many_link_removes_the_link(registry, engine, records):
    registry.apply(registry.plan([TAG, tagged_account()]))
    vip, press = records.insert("crm.tag", name="vip"), records.insert("crm.tag", name="press")
    a = records.insert("crm.account", name="a", tags=[vip, press])
    b = records.insert("crm.account", name="b", tags=[vip])
    delete(engine, "crm_tag", vip)
    assert records.raw("crm_account__tags") == [{"source_id": a, "target_id": press}]
    delete(engine, "crm_account", a)
    assert records.raw("crm_account__tags") == []
    assert records.get("crm.account", b) is not None


def test_a_many_to_many_link_to_a_missing_record_is_refused(registry, records):
    registry.apply(registry.plan([TAG, tagged_account()]))
    with pytest.raises(sa.exc.IntegrityError):
        records.insert("crm.account", name="a", tags=[999])


def test_a_many_to_many_field_added_later_creates_its_association_table(registry, engine):
    registry.apply(registry.plan([TAG, ACCOUNT]))
    registry.apply(registry.plan([TAG, tagged_account()]))
    assert "crm_account__tags" in sa.inspect(engine).get_table_names()
    assert foreign_keys(engine, "crm_account__tags")["target_id"] == ("crm_tag", "CASCADE")


def test_a_regarding_field_is_two_indexed_columns_without_foreign_key(registry, engine, records):
    note = {
        "x-xrm": {"name": "crm.note"},
        "properties": {"about": {"x-xrm": {"type": "regarding", "targets": ["crm.account"]}}},
    }
    registry.apply(registry.plan([ACCOUNT, note]))
    a = records.insert("crm.account", name="a")
    n = records.insert("crm.note", about={"entity": "crm.account", "id": a})
    assert foreign_keys(engine, "crm_note") == {}
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes("crm_note")}
    assert indexes["ix_crm_note_about_entity_about_id"] == ["about_entity", "about_id"]
    assert records.get("crm.note", n)["about"] == {"entity": "crm.account", "id": a}
