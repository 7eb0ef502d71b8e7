"""Applying plans to a real database: DDL, data checks, conversions, archiving, confirmation
and version coherence."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from xrm.metadata import migrator
from xrm.metadata.errors import PlanRefused, StalePlan

STAGES = ["new", "won", "lost"]


def account(**extra_props: Any) -> dict[str, Any]:
    return {
        "x-xrm": {"name": "crm.account"},
        "properties": {"name": {"type": "string"}, **extra_props},
    }


def columns(engine, table: str) -> list[str]:
    return [c["name"] for c in sa.inspect(engine).get_columns(table)]


def apply(registry, docs, **kwargs) -> int:
    return registry.apply(registry.plan(docs), **kwargs)


# -- creating ---------------------------------------------------------------------------------


def test_a_new_entity_gets_a_table_with_system_and_field_columns(registry, engine):
    apply(registry, [account(size={"type": "integer"})])
    assert columns(engine, "crm_account") == [
        "id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "owner_id",
        "row_version",
        "deleted_at",
        "name",
        "size",
    ]


def test_applying_bumps_the_version_by_one_and_returns_it(registry):
    assert apply(registry, [account()]) == 1
    assert apply(registry, [account(size={"type": "integer"})]) == 2
    assert registry.version() == 2


def test_the_new_snapshot_serves_the_entity_right_after_apply(registry):
    apply(registry, [account()])
    snap = registry.snapshot()
    assert snap.version == 1
    assert "crm.account" in snap
    assert list(snap.entity("crm.account").fields) == ["name"]


def test_another_registry_on_the_same_database_sees_the_new_version(registry, engine):
    from xrm.metadata.registry import MetadataRegistry

    other = MetadataRegistry(engine)
    assert "crm.account" not in other.snapshot()
    apply(registry, [account()])
    assert "crm.account" in other.snapshot()
    assert other.snapshot().version == 1


def test_planning_the_same_definition_again_gives_an_empty_plan(registry):
    apply(registry, [account(size={"type": "integer", "x-xrm": {"index": True}})])
    plan = registry.plan([account(size={"type": "integer", "x-xrm": {"index": True}})])
    assert plan.is_empty
    assert plan.problems == []


def test_applying_an_empty_plan_keeps_the_version(registry):
    apply(registry, [account()])
    assert apply(registry, [account()]) == 1
    assert registry.version() == 1
    assert len(registry.history("crm.account")) == 1


def test_entities_of_one_batch_are_created_in_dependency_order(registry, engine):
    contact = {
        "x-xrm": {"name": "crm.contact"},
        "properties": {"account": {"x-xrm": {"type": "reference", "target": "crm.account"}}},
    }
    apply(registry, [contact, account()])
    assert {"crm_account", "crm_contact"} <= set(sa.inspect(engine).get_table_names())


def test_a_safe_plan_needs_no_confirmation(registry):
    apply(registry, [account()])
    assert apply(registry, [account(size={"type": "integer"})]) == 2


def test_indexes_and_unique_constraints_are_created(registry, engine):
    apply(
        registry,
        [
            account(
                code={"type": "string", "x-xrm": {"unique": True}},
                city={"type": "string", "x-xrm": {"index": True}},
            )
        ],
    )
    indexes = {ix["name"]: ix for ix in sa.inspect(engine).get_indexes("crm_account")}
    assert indexes["uq_crm_account_code"]["unique"]
    assert indexes["uq_crm_account_code"]["column_names"] == ["code"]
    assert not indexes["ix_crm_account_city"]["unique"]


def test_a_unique_constraint_is_enforced_by_the_database(registry, records):
    apply(registry, [account(code={"type": "string", "x-xrm": {"unique": True}})])
    records.insert("crm.account", name="a", code="X")
    with pytest.raises(sa.exc.IntegrityError):
        records.insert("crm.account", name="b", code="X")


def test_a_definition_row_and_layer_row_are_written_with_the_document(registry, engine):
    apply(registry, [account()])
    with engine.connect() as conn:
        layers = registry.layers(conn)
    assert layers["crm.account"]["base"]["x-xrm"]["name"] == "crm.account"


# -- confirmation -----------------------------------------------------------------------------


def test_a_destructive_plan_is_refused_without_confirmation(registry, engine):
    apply(registry, [account(size={"type": "integer"})])
    plan = registry.plan([account()])
    with pytest.raises(PlanRefused) as info:
        registry.apply(plan)
    assert "destructive" in str(info.value)
    assert "Confirm to apply" in str(info.value)
    assert registry.version() == 1
    assert "size" in columns(engine, "crm_account")


def test_a_checked_plan_is_refused_without_confirmation(registry):
    apply(registry, [account()])
    plan = registry.plan([account(code={"type": "string", "x-xrm": {"unique": True}})])
    with pytest.raises(PlanRefused) as info:
        registry.apply(plan)
    assert "checked" in str(info.value)
    assert registry.version() == 1


def test_a_confirmed_destructive_plan_is_applied(registry, engine):
    apply(registry, [account(size={"type": "integer"})])
    assert registry.apply(registry.plan([account()]), confirm=True) == 2
    assert "size" not in columns(engine, "crm_account")


def test_a_refused_plan_maps_to_http_409():
    assert PlanRefused.status == 409
    assert StalePlan.status == 409


# -- stale plans ------------------------------------------------------------------------------


def test_a_plan_made_before_another_change_was_applied_is_stale(registry, engine):
    apply(registry, [account()])
    stale = registry.plan([account(size={"type": "integer"})])
    apply(registry, [account(city={"type": "string"})])
    with pytest.raises(StalePlan) as info:
        registry.apply(stale)
    assert "version 1 -> 2" in str(info.value)
    assert registry.version() == 2
    assert "size" not in columns(engine, "crm_account")


def test_a_stale_plan_can_be_planned_again(registry):
    apply(registry, [account()])
    registry.plan([account(size={"type": "integer"})])
    apply(registry, [account(city={"type": "string"})])
    fresh = registry.plan([account(city={"type": "string"}, size={"type": "integer"})])
    assert registry.apply(fresh) == 3


# -- new fields -------------------------------------------------------------------------------


def test_a_new_field_with_a_default_fills_existing_rows(registry, records):
    apply(registry, [account()])
    first = records.insert("crm.account", name="a")
    apply(registry, [account(stage={"type": "string", "enum": STAGES, "default": "new"})])
    assert records.get("crm.account", first)["stage"] == "new"


def test_a_new_money_field_with_a_default_fills_both_columns(registry, records):
    apply(registry, [account()])
    first = records.insert("crm.account", name="a")
    apply(
        registry,
        [
            account(
                budget={"x-xrm": {"type": "money"}, "default": {"amount": "5", "currency": "EUR"}}
            )
        ],
    )
    assert records.get("crm.account", first)["budget"] == {"amount": "5.00", "currency": "EUR"}


def test_a_new_optional_field_is_null_on_existing_rows(registry, records):
    apply(registry, [account()])
    first = records.insert("crm.account", name="a")
    apply(registry, [account(size={"type": "integer"})])
    assert records.get("crm.account", first)["size"] is None


def test_a_new_required_field_on_a_table_with_rows_is_refused(registry, records, state):
    apply(registry, [account()])
    records.insert("crm.account", name="a")
    records.insert("crm.account", name="b")
    before = state(registry)
    doc = account(vat={"type": "string"})
    doc["required"] = ["vat"]
    plan = registry.plan([doc])
    [check] = plan.checks.values()
    assert check["failing"] == 2
    assert "required field vat" in check["message"]
    with pytest.raises(PlanRefused) as info:
        registry.apply(plan, confirm=True)
    assert "2 row(s) do not fit" in str(info.value)
    assert state(registry) == before


def test_a_new_required_field_on_an_empty_table_is_applied_when_confirmed(registry, engine):
    apply(registry, [account()])
    doc = account(vat={"type": "string"})
    doc["required"] = ["vat"]
    assert apply(registry, [doc], confirm=True) == 2
    assert "vat" in columns(engine, "crm_account")


def test_a_new_required_field_with_a_default_is_applied_to_a_table_with_rows(registry, records):
    apply(registry, [account()])
    first = records.insert("crm.account", name="a")
    doc = account(country={"type": "string", "default": "CH"})
    doc["required"] = ["country"]
    apply(registry, [doc])
    assert records.get("crm.account", first)["country"] == "CH"


# -- renames ----------------------------------------------------------------------------------


def test_a_rename_keeps_the_data_under_the_new_name(registry, records, engine):
    apply(registry, [account(size={"type": "integer"})])
    first = records.insert("crm.account", name="Acme", size=12)
    renamed = {
        "x-xrm": {"name": "crm.account"},
        "properties": {
            "title": {"type": "string", "x-xrm": {"renamedFrom": "name"}},
            "size": {"type": "integer"},
        },
    }
    apply(registry, [renamed])
    assert "name" not in columns(engine, "crm_account")
    record = records.get("crm.account", first)
    assert (record["title"], record["size"]) == ("Acme", 12)


def test_a_rename_moves_the_index_with_the_field(registry, records, engine):
    apply(registry, [account(code={"type": "string", "x-xrm": {"unique": True}})])
    records.insert("crm.account", name="a", code="X")
    renamed = account(ref={"type": "string", "x-xrm": {"unique": True, "renamedFrom": "code"}})
    apply(registry, [renamed], confirm=True)
    indexes = {
        ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes("crm_account")
    }
    assert indexes.get("uq_crm_account_ref") == ["ref"]
    assert "uq_crm_account_code" not in indexes
    with pytest.raises(sa.exc.IntegrityError):
        records.insert("crm.account", name="b", ref="X")


def test_a_rename_of_a_money_field_renames_both_columns(registry, records, engine):
    apply(registry, [account(budget={"x-xrm": {"type": "money"}})])
    first = records.insert("crm.account", name="a", budget={"amount": "3", "currency": "EUR"})
    apply(registry, [account(funds={"x-xrm": {"type": "money", "renamedFrom": "budget"}})])
    assert {"funds_amount", "funds_currency"} <= set(columns(engine, "crm_account"))
    assert records.get("crm.account", first)["funds"] == {"amount": "3.00", "currency": "EUR"}


def test_a_rename_of_a_many_to_many_field_renames_its_association_table(registry, records, engine):
    tag = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}
    apply(registry, [tag, account(tags={"x-xrm": {"type": "manytomany", "target": "crm.tag"}})])
    t = records.insert("crm.tag", name="vip")
    a = records.insert("crm.account", name="a", tags=[t])
    apply(
        registry,
        [
            account(
                labels={"x-xrm": {"type": "manytomany", "target": "crm.tag", "renamedFrom": "tags"}}
            )
        ],
    )
    tables = set(sa.inspect(engine).get_table_names())
    assert "crm_account__labels" in tables
    assert "crm_account__tags" not in tables
    assert records.raw("crm_account__labels") == [{"source_id": a, "target_id": t}]


# -- conversions ------------------------------------------------------------------------------


def test_a_type_conversion_converts_every_value(registry, records):
    apply(registry, [account(size={"type": "string"})])
    a = records.insert("crm.account", name="a", size="12")
    b = records.insert("crm.account", name="b", size=" 7 ")
    c = records.insert("crm.account", name="c")
    apply(registry, [account(size={"type": "integer"})], confirm=True)
    assert [records.get("crm.account", i)["size"] for i in (a, b, c)] == [12, 7, None]


def test_a_conversion_keeps_the_original_values_in_an_archived_column(registry, records, engine):
    apply(registry, [account(size={"type": "string"})])
    records.insert("crm.account", name="a", size="12")
    apply(registry, [account(size={"type": "integer"})], confirm=True)
    [row] = records.raw("crm_account")
    assert (row["size"], row["xa_2_size"]) == (12, "12")
    assert "xa_2_size" not in registry.snapshot().entity("crm.account").table.c


def test_a_safe_conversion_needs_no_confirmation(registry, records):
    apply(registry, [account(size={"type": "integer"})])
    first = records.insert("crm.account", name="a", size=5)
    apply(registry, [account(size={"x-xrm": {"type": "bigint"}})])
    assert records.get("crm.account", first)["size"] == 5


def test_a_conversion_of_a_choice_to_multiple_choice_wraps_values_in_a_list(registry, records):
    apply(registry, [account(stage={"type": "string", "enum": STAGES})])
    first = records.insert("crm.account", name="a", stage="won")
    multi = {"type": "array", "items": {"type": "string", "enum": STAGES}}
    apply(registry, [account(stage=multi)])
    assert records.get("crm.account", first)["stage"] == ["won"]


def test_a_conversion_with_values_that_do_not_convert_is_refused_with_a_report(registry, records):
    apply(registry, [account(size={"type": "string"})])
    records.insert("crm.account", name="a", size="12")
    bad1 = records.insert("crm.account", name="b", size="twelve")
    bad2 = records.insert("crm.account", name="c", size="1.5")
    plan = registry.plan([account(size={"type": "integer"})])
    [check] = plan.checks.values()
    assert check["failing"] == 2
    assert check["samples"] == [
        {"id": bad1, "value": "twelve", "message": "'twelve' is not a whole number"},
        {"id": bad2, "value": "1.5", "message": "'1.5' is not a whole number"},
    ]
    with pytest.raises(PlanRefused) as info:
        registry.apply(plan, confirm=True)
    assert "convert field size from text to integer: 2 row(s) do not fit" in str(info.value)
    [failure] = info.value.report
    assert failure["failing"] == 2
    assert failure["operation"]["op"] == "convert_field"
    assert len(failure["samples"]) == 2


def test_the_report_of_a_refused_conversion_is_in_the_plan_as_json(registry, records):
    apply(registry, [account(size={"type": "string"})])
    records.insert("crm.account", name="b", size="twelve")
    data = registry.plan([account(size={"type": "integer"})]).as_dict()
    [op] = [op for op in data["operations"] if op["op"] == "convert_field"]
    assert op["check"]["failing"] == 1


def test_a_refused_conversion_changes_nothing(registry, records, state):
    apply(registry, [account(size={"type": "string"})])
    records.insert("crm.account", name="a", size="12")
    records.insert("crm.account", name="b", size="twelve")
    before = state(registry)
    with pytest.raises(PlanRefused):
        apply(registry, [account(size={"type": "integer"})], confirm=True)
    assert state(registry) == before


def test_the_samples_of_a_report_are_capped(registry, records):
    apply(registry, [account(size={"type": "string"})])
    for i in range(8):
        records.insert("crm.account", name=str(i), size=f"x{i}")
    [check] = registry.plan([account(size={"type": "integer"})]).checks.values()
    assert check["failing"] == 8
    assert len(check["samples"]) == migrator.SAMPLES


def test_a_null_fallback_converts_what_it_can_and_empties_the_rest(registry, records):
    apply(registry, [account(size={"type": "string"})])
    good = records.insert("crm.account", name="a", size="12")
    bad = records.insert("crm.account", name="b", size="twelve")
    apply(
        registry,
        [account(size={"type": "integer"})],
        confirm=True,
        fallbacks={"crm.account.size": "null"},
    )
    assert records.get("crm.account", good)["size"] == 12
    assert records.get("crm.account", bad)["size"] is None
    archived = {r["id"]: r["xa_2_size"] for r in records.raw("crm_account")}
    assert archived[bad] == "twelve"


def test_a_null_fallback_does_not_apply_to_a_required_field(registry, records, state):
    doc = account(size={"type": "string"})
    doc["required"] = ["size"]
    apply(registry, [doc])
    records.insert("crm.account", name="b", size="twelve")
    before = state(registry)
    new = account(size={"type": "integer"})
    new["required"] = ["size"]
    with pytest.raises(PlanRefused):
        apply(registry, [new], confirm=True, fallbacks={"crm.account.size": "null"})
    assert state(registry) == before


def test_a_fallback_for_another_field_does_not_help(registry, records):
    apply(registry, [account(size={"type": "string"})])
    records.insert("crm.account", name="b", size="twelve")
    with pytest.raises(PlanRefused):
        apply(
            registry,
            [account(size={"type": "integer"})],
            confirm=True,
            fallbacks={"crm.account.name": "null"},
        )


def test_a_shorter_max_length_with_longer_values_is_refused(registry, records, state):
    apply(registry, [account()])
    records.insert("crm.account", name="x" * 30)
    before = state(registry)
    with pytest.raises(PlanRefused) as info:
        apply(
            registry,
            [account() | {"properties": {"name": {"type": "string", "maxLength": 10}}}],
            confirm=True,
        )
    assert "1 row(s) do not fit" in str(info.value)
    assert state(registry) == before


def test_a_removed_choice_value_still_in_use_is_refused(registry, records):
    apply(registry, [account(stage={"type": "string", "enum": STAGES})])
    records.insert("crm.account", name="a", stage="lost")
    with pytest.raises(PlanRefused):
        apply(registry, [account(stage={"type": "string", "enum": ["new", "won"]})], confirm=True)


def test_a_removed_choice_value_with_a_null_fallback_empties_those_rows(registry, records):
    apply(registry, [account(stage={"type": "string", "enum": STAGES})])
    lost = records.insert("crm.account", name="a", stage="lost")
    won = records.insert("crm.account", name="b", stage="won")
    apply(
        registry,
        [account(stage={"type": "string", "enum": ["new", "won"]})],
        confirm=True,
        fallbacks={"crm.account.stage": "null"},
    )
    assert records.get("crm.account", lost)["stage"] is None
    assert records.get("crm.account", won)["stage"] == "won"


def test_a_new_decimal_scale_rewrites_the_values(registry, records):
    apply(registry, [account(rate={"x-xrm": {"type": "decimal", "scale": 2}})])
    first = records.insert("crm.account", name="a", rate="1.25")
    apply(registry, [account(rate={"x-xrm": {"type": "decimal", "scale": 4}})], confirm=True)
    assert records.get("crm.account", first)["rate"] == "1.2500"


def test_making_a_field_required_is_refused_while_rows_have_no_value(registry, records):
    apply(registry, [account(vat={"type": "string"})])
    records.insert("crm.account", name="a")
    doc = account(vat={"type": "string"})
    doc["required"] = ["vat"]
    with pytest.raises(PlanRefused):
        apply(registry, [doc], confirm=True)


def test_making_a_field_required_is_applied_when_every_row_has_a_value(registry, records):
    apply(registry, [account(vat={"type": "string"})])
    records.insert("crm.account", name="a", vat="CHE-1")
    doc = account(vat={"type": "string"})
    doc["required"] = ["vat"]
    assert apply(registry, [doc], confirm=True) == 2


# -- unique constraints -----------------------------------------------------------------------


def test_a_new_unique_constraint_over_duplicates_is_refused_with_the_duplicates(
    registry, records, state
):
    apply(registry, [account(code={"type": "string"})])
    records.insert("crm.account", name="a", code="X")
    records.insert("crm.account", name="b", code="X")
    records.insert("crm.account", name="c", code="Y")
    records.insert("crm.account", name="d")
    records.insert("crm.account", name="e")
    before = state(registry)
    plan = registry.plan([account(code={"type": "string", "x-xrm": {"unique": True}})])
    [check] = plan.checks.values()
    assert check["failing"] == 2
    assert check["samples"] == [{"value": ["X"], "count": 2}]
    with pytest.raises(PlanRefused):
        registry.apply(plan, confirm=True)
    assert state(registry) == before


def test_a_new_unique_constraint_over_distinct_values_is_applied(registry, records):
    apply(registry, [account(code={"type": "string"})])
    records.insert("crm.account", name="a", code="X")
    records.insert("crm.account", name="b")
    records.insert("crm.account", name="c")
    apply(registry, [account(code={"type": "string", "x-xrm": {"unique": True}})], confirm=True)
    with pytest.raises(sa.exc.IntegrityError):
        records.insert("crm.account", name="d", code="X")


def test_a_unique_group_over_duplicate_pairs_is_refused(registry, records):
    apply(registry, [account(city={"type": "string"})])
    records.insert("crm.account", name="a", city="Bern")
    records.insert("crm.account", name="a", city="Bern")
    records.insert("crm.account", name="a", city="Basel")
    doc = account(city={"type": "string"})
    doc["x-xrm"]["unique"] = [["name", "city"]]
    plan = registry.plan([doc])
    [check] = plan.checks.values()
    assert check["samples"] == [{"value": ["a", "Bern"], "count": 2}]
    with pytest.raises(PlanRefused):
        registry.apply(plan, confirm=True)


def test_a_unique_constraint_on_a_renamed_field_is_checked_on_the_old_values(registry, records):
    apply(registry, [account(code={"type": "string"})])
    records.insert("crm.account", name="a", code="X")
    records.insert("crm.account", name="b", code="X")
    plan = registry.plan(
        [account(ref={"type": "string", "x-xrm": {"renamedFrom": "code", "unique": True}})]
    )
    [check] = [c for c in plan.checks.values() if "count" in str(c)]
    assert check["failing"] == 2
    with pytest.raises(PlanRefused):
        registry.apply(plan, confirm=True)


def test_a_new_unique_field_whose_default_would_fill_several_rows_is_refused(
    registry, records, state
):
    apply(registry, [account()])
    records.insert("crm.account", name="a")
    records.insert("crm.account", name="b")
    before = state(registry)
    plan = registry.plan(
        [account(code={"type": "string", "default": "X", "x-xrm": {"unique": True}})]
    )
    [check] = plan.checks.values()
    assert check["failing"] == 2
    with pytest.raises(PlanRefused):
        registry.apply(plan, confirm=True)
    assert state(registry) == before


def test_a_new_unique_field_without_default_is_applied_to_a_table_with_rows(registry, records):
    apply(registry, [account()])
    records.insert("crm.account", name="a")
    records.insert("crm.account", name="b")
    apply(registry, [account(code={"type": "string", "x-xrm": {"unique": True}})], confirm=True)
    assert [r["code"] for r in records.raw("crm_account")] == [None, None]


def test_a_conversion_that_makes_unique_values_collide_is_refused_with_the_rows(
    registry, records, state
):
    apply(registry, [account(code={"type": "string", "x-xrm": {"unique": True}})])
    first = records.insert("crm.account", name="a", code="7")
    second = records.insert("crm.account", name="b", code=" 7")
    records.insert("crm.account", name="c", code="8")
    before = state(registry)
    plan = registry.plan([account(code={"type": "integer", "x-xrm": {"unique": True}})])
    [check] = [c for c in plan.checks.values() if c["failing"]]
    assert check["failing"] == 2
    assert [s["id"] for s in check["samples"]] == [first, second]
    assert check["samples"][0]["message"] == "converts to 7, as 1 other row(s) do"
    with pytest.raises(PlanRefused):
        registry.apply(plan, confirm=True, fallbacks={"crm.account.code": "null"})
    assert state(registry) == before


# -- removing fields --------------------------------------------------------------------------


def test_removing_a_field_archives_its_column_with_the_data(registry, records, engine):
    apply(registry, [account(size={"type": "integer"})])
    first = records.insert("crm.account", name="a", size=12)
    apply(registry, [account()], confirm=True)
    assert "size" not in registry.snapshot().entity("crm.account").fields
    assert "size" not in records.get("crm.account", first)
    [row] = records.raw("crm_account")
    assert row["xa_2_size"] == 12


def test_an_archived_field_is_recorded_with_its_definition(registry, engine):
    from xrm.metadata import store

    apply(registry, [account(size={"type": "integer", "title": "Head count"})])
    apply(registry, [account()], confirm=True)
    with engine.connect() as conn:
        [row] = conn.execute(sa.select(store.archived_column)).mappings().all()
    assert (row["entity"], row["field"], row["reason"]) == ("crm.account", "size", "removed")
    assert '"Head count"' in row["field_definition"]
    assert row["columns"] == '[["xa_2_size", "size"]]'


def test_purging_drops_archived_columns_for_good(registry, records, engine):
    apply(registry, [account(size={"type": "integer"})])
    records.insert("crm.account", name="a", size=12)
    apply(registry, [account()], confirm=True)
    with engine.begin() as conn:
        assert migrator.purge_archived(conn, "crm.account") == 1
    assert "xa_2_size" not in columns(engine, "crm_account")
    assert [r["name"] for r in records.raw("crm_account")] == ["a"]
    with engine.begin() as conn:
        assert migrator.purge_archived(conn, "crm.account") == 0


def test_purging_one_field_keeps_the_other_archives(registry, engine):
    apply(registry, [account(size={"type": "integer"}, city={"type": "string"})])
    apply(registry, [account()], confirm=True)
    with engine.begin() as conn:
        assert migrator.purge_archived(conn, "crm.account", "size") == 1
    assert "xa_2_size" not in columns(engine, "crm_account")
    assert "xa_2_city" in columns(engine, "crm_account")


def test_a_field_can_be_added_again_under_the_name_of_an_archived_one(registry, records):
    apply(registry, [account(size={"type": "integer"})])
    first = records.insert("crm.account", name="a", size=12)
    apply(registry, [account()], confirm=True)
    apply(registry, [account(size={"type": "string"})])
    assert records.get("crm.account", first)["size"] is None
    assert records.raw("crm_account")[0]["xa_2_size"] == 12


def test_removing_a_many_to_many_field_archives_its_association_table(registry, records, engine):
    tag = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}
    apply(registry, [tag, account(tags={"x-xrm": {"type": "manytomany", "target": "crm.tag"}})])
    t = records.insert("crm.tag", name="vip")
    records.insert("crm.account", name="a", tags=[t])
    apply(registry, [account()], confirm=True)
    tables = set(sa.inspect(engine).get_table_names())
    assert "crm_account__tags" not in tables
    [archived] = [name for name in tables if name.startswith("xa_2_")]
    assert len(records.raw(archived)) == 1


# -- removing entities ------------------------------------------------------------------------


def test_removing_an_entity_archives_its_table(registry, records, engine):
    apply(registry, [account()])
    records.insert("crm.account", name="a")
    plan = registry.plan(removed=["crm.account"])
    registry.apply(plan, confirm=True)
    assert "crm.account" not in registry.snapshot()
    tables = set(sa.inspect(engine).get_table_names())
    assert "crm_account" not in tables
    assert [r["name"] for r in records.raw("xa_2_crm_account")] == ["a"]


def test_removing_an_entity_that_is_still_referenced_is_refused(registry, engine, state):
    contact = {
        "x-xrm": {"name": "crm.contact"},
        "properties": {"account": {"x-xrm": {"type": "reference", "target": "crm.account"}}},
    }
    apply(registry, [account(), contact])
    before = state(registry)
    with pytest.raises(PlanRefused) as info:
        registry.apply(registry.plan(removed=["crm.account"]), confirm=True)
    assert "still referenced by crm.contact.account" in str(info.value)
    assert state(registry) == before
