"""The planner is a pure function from (old, new) definitions to typed operations, each with
its risk. These tests use plain data only: no database."""

from __future__ import annotations

from typing import Any

import pytest

from xrm.metadata.fieldtypes import CONVERSIONS, FIELD_TYPES
from xrm.metadata.model import parse_definition
from xrm.metadata.planner import (
    AddField,
    AddIndex,
    AlterField,
    ArchiveEntity,
    ArchiveField,
    ConvertField,
    CreateEntity,
    DropIndex,
    MigrationPlan,
    RenameField,
    Risk,
    UpdateEntityOptions,
    plan_changes,
    plan_entity,
)

NAME = {"type": "string"}
COUNT = {"type": "integer"}


def defn(properties: dict[str, Any], name: str = "crm.a", required=(), **options: Any):
    doc: dict[str, Any] = {"x-xrm": {"name": name, **options}, "properties": properties}
    if required:
        doc["required"] = list(required)
    return parse_definition(doc)


def field_ops(old, new):
    """The operations other than entity option updates (labels, list columns...)."""
    ops, problems = plan_entity(old, new)
    assert problems == []
    return [op for op in ops if not isinstance(op, UpdateEntityOptions)]


def only_op(old, new):
    [op] = field_ops(old, new)
    return op


def problems_of(old, new):
    _ops, problems = plan_entity(old, new)
    return [(p.pointer, p.message) for p in problems]


BASE = defn({"name": NAME, "count": COUNT})


# -- entities ---------------------------------------------------------------------------------


def test_a_new_entity_is_one_safe_create_operation():
    ops, problems = plan_entity(None, BASE)
    assert (ops, problems) == ([CreateEntity("crm.a")], [])
    assert ops[0].risk_of is Risk.SAFE


def test_an_unchanged_definition_plans_nothing():
    assert plan_entity(BASE, defn({"name": NAME, "count": COUNT})) == ([], [])


def test_new_entities_are_created_targets_first_so_foreign_keys_can_be_inline():
    account = defn({"name": NAME}, name="crm.account")
    contact = defn(
        {"account": {"x-xrm": {"type": "reference", "target": "crm.account"}}}, name="crm.contact"
    )
    invoice = defn(
        {"contact": {"x-xrm": {"type": "reference", "target": "crm.contact"}}}, name="crm.invoice"
    )
    plan = plan_changes(
        {}, {"crm.invoice": invoice, "crm.contact": contact, "crm.account": account}
    )
    assert [op.entity for op in plan.operations] == ["crm.account", "crm.contact", "crm.invoice"]


def test_entities_that_reference_each_other_are_all_created():
    a = defn({"b": {"x-xrm": {"type": "reference", "target": "crm.b"}}}, name="crm.a")
    b = defn({"a": {"x-xrm": {"type": "reference", "target": "crm.a"}}}, name="crm.b")
    plan = plan_changes({}, {"crm.a": a, "crm.b": b})
    assert sorted(op.entity for op in plan.operations) == ["crm.a", "crm.b"]
    assert all(isinstance(op, CreateEntity) for op in plan.operations)


def test_removing_an_entity_archives_it_and_is_destructive():
    plan = plan_changes({"crm.a": BASE}, {}, removed=("crm.a",))
    assert plan.operations == [ArchiveEntity("crm.a")]
    assert plan.risk is Risk.DESTRUCTIVE


def test_removing_an_entity_that_does_not_exist_is_a_problem():
    plan = plan_changes({}, {}, removed=("crm.ghost",))
    assert [p.message for p in plan.problems] == ["entity 'crm.ghost' does not exist"]


def test_changing_labels_only_updates_the_definition_row():
    ops, _ = plan_entity(BASE, defn({"name": NAME, "count": COUNT}, labels={"singular": "Thing"}))
    assert ops == [UpdateEntityOptions("crm.a", changed=("label", "label_plural"))]
    assert ops[0].risk_of is Risk.SAFE


# -- adding fields ----------------------------------------------------------------------------


def test_an_optional_new_field_is_a_safe_add():
    op = only_op(BASE, defn({"name": NAME, "count": COUNT, "email": NAME}))
    assert isinstance(op, AddField)
    assert (op.field.name, op.risk_of) == ("email", Risk.SAFE)


def test_a_required_new_field_without_default_is_checked():
    op = only_op(BASE, defn({"name": NAME, "count": COUNT, "email": NAME}, required=["email"]))
    assert isinstance(op, AddField)
    assert op.risk_of is Risk.CHECKED
    assert "refused if the entity has rows" in op.describe()


def test_a_required_new_field_with_a_default_is_safe_and_says_what_existing_rows_get():
    new = defn(
        {"name": NAME, "count": COUNT, "stage": {"type": "string", "default": "new"}},
        required=["stage"],
    )
    op = only_op(BASE, new)
    assert op.risk_of is Risk.SAFE
    assert op.describe() == "add text field stage, existing rows get 'new'"


# -- renaming ---------------------------------------------------------------------------------


def test_renamed_from_turns_a_remove_and_add_into_a_rename():
    new = defn({"title": {"type": "string", "x-xrm": {"renamedFrom": "name"}}, "count": COUNT})
    ops = field_ops(new=new, old=BASE)
    renames = [op for op in ops if isinstance(op, RenameField)]
    assert [(op.old.name, op.new.name) for op in renames] == [("name", "title")]
    assert renames[0].risk_of is Risk.SAFE
    assert not [op for op in ops if isinstance(op, AddField | ArchiveField)]


def test_renamed_from_accepts_a_list_of_earlier_names():
    new = defn(
        {"title": {"type": "string", "x-xrm": {"renamedFrom": ["label", "name"]}}, "count": COUNT}
    )
    renames = [op for op in field_ops(BASE, new) if isinstance(op, RenameField)]
    assert [(op.old.name, op.new.name) for op in renames] == [("name", "title")]


def test_renamed_from_a_name_that_no_longer_exists_is_a_plain_add():
    new = defn(
        {
            "name": NAME,
            "count": COUNT,
            "title": {"type": "string", "x-xrm": {"renamedFrom": "ghost"}},
        }
    )
    op = only_op(BASE, new)
    assert isinstance(op, AddField)


def test_without_renamed_from_a_new_name_archives_the_old_field_and_adds_a_new_one():
    ops = field_ops(BASE, defn({"title": NAME, "count": COUNT}))
    assert sorted(op.kind for op in ops) == ["add_field", "archive_field"]


def test_a_rename_with_a_type_change_renames_then_converts():
    new = defn({"name": NAME, "total": {"type": "string", "x-xrm": {"renamedFrom": "count"}}})
    ops = field_ops(BASE, new)
    assert [op.kind for op in ops] == ["rename_field", "convert_field"]
    assert (ops[1].old.name, ops[1].old.type, ops[1].new.type) == ("total", "integer", "text")


def test_renaming_an_indexed_field_moves_its_index_to_the_new_name():
    old = defn({"name": {"type": "string", "x-xrm": {"index": True}}})
    new = defn({"title": {"type": "string", "x-xrm": {"index": True, "renamedFrom": "name"}}})
    ops = field_ops(old, new)
    assert [(op.kind, getattr(op, "name", None)) for op in ops if op.kind != "alter_field"] == [
        ("drop_index", "ix_crm_a_name"),
        ("rename_field", None),
        ("add_index", "ix_crm_a_title"),
    ]


# -- removing fields --------------------------------------------------------------------------


def test_removing_a_field_archives_it_and_is_destructive():
    op = only_op(BASE, defn({"name": NAME}))
    assert isinstance(op, ArchiveField)
    assert op.field.name == "count"
    assert op.risk_of is Risk.DESTRUCTIVE
    assert "archived" in op.describe()


# -- type conversions -------------------------------------------------------------------------


def test_a_widening_type_change_is_a_safe_conversion():
    op = only_op(BASE, defn({"name": NAME, "count": {"x-xrm": {"type": "bigint"}}}))
    assert isinstance(op, ConvertField)
    assert (op.old.type, op.new.type, op.risk_of) == ("integer", "bigint", Risk.SAFE)


def test_a_narrowing_type_change_is_a_checked_conversion():
    op = only_op(BASE, defn({"name": {"type": "integer"}, "count": COUNT}))
    assert isinstance(op, ConvertField)
    assert (op.old.type, op.new.type, op.risk_of) == ("text", "integer", Risk.CHECKED)


def test_an_unsupported_type_change_is_a_problem_at_the_type_keyword():
    assert problems_of(BASE, defn({"name": NAME, "count": {"type": "object"}})) == [
        (
            "/properties/count/x-xrm/type",
            "field crm.a.count cannot be converted from integer to json; "
            "add a new field and copy the data instead",
        )
    ]


def test_a_many_to_many_field_cannot_be_converted():
    old = defn({"tags": {"x-xrm": {"type": "manytomany", "target": "crm.a"}}})
    new = defn({"tags": {"x-xrm": {"type": "reference", "target": "crm.a"}}})
    [(pointer, message)] = problems_of(old, new)
    assert pointer == "/properties/tags/x-xrm/type"
    assert "manytomany to reference" in message


@pytest.mark.parametrize(("pair", "risk"), sorted(CONVERSIONS.items()))
def test_every_declared_conversion_is_planned_with_its_declared_risk(pair, risk):
    source, target = pair
    old = defn({"f": _field_of(source)})
    new = defn({"f": _field_of(target)})
    # (autonumber and reference fields also have an implicit index, dropped or added)
    [op] = [op for op in field_ops(old, new) if not isinstance(op, AddIndex | DropIndex)]
    assert isinstance(op, ConvertField)
    assert op.risk_of is Risk(risk)


def _field_of(ftype: str) -> dict[str, Any]:
    options = {
        "choice": {"enum": ["a", "b"]},
        "multichoice": {"items": {"type": "string", "enum": ["a", "b"]}},
        "reference": {"x-xrm": {"type": "reference", "target": "crm.a"}},
        "autonumber": {"x-xrm": {"type": "autonumber", "format": "{SEQ:3}"}},
    }
    prop = options.get(ftype, {})
    return {**prop, "x-xrm": {"type": ftype, **prop.get("x-xrm", {})}}


def test_conversions_never_involve_many_to_many_fields():
    assert not [pair for pair in CONVERSIONS if "manytomany" in pair]
    assert set(FIELD_TYPES) >= {t for pair in CONVERSIONS for t in pair}


# -- changes within a type --------------------------------------------------------------------


def test_a_new_title_is_a_safe_alteration_of_the_definition_only():
    op = only_op(BASE, defn({"name": {"type": "string", "title": "Full name"}, "count": COUNT}))
    assert isinstance(op, AlterField)
    assert (op.changes, op.risk_of, op.column_change) == (("label",), Risk.SAFE, False)


def test_a_longer_max_length_is_a_safe_column_change():
    op = only_op(BASE, defn({"name": {"type": "string", "maxLength": 500}, "count": COUNT}))
    assert (op.changes, op.risk_of, op.column_change) == (("maxLength",), Risk.SAFE, True)


def test_a_shorter_max_length_is_checked():
    op = only_op(BASE, defn({"name": {"type": "string", "maxLength": 20}, "count": COUNT}))
    assert (op.risk_of, op.tightened) == (Risk.CHECKED, True)


def test_dropping_max_length_back_to_the_default_length_is_checked():
    old = defn({"name": {"type": "string", "maxLength": 500}})
    op = only_op(old, defn({"name": NAME}))
    assert op.risk_of is Risk.CHECKED


def test_making_a_field_required_is_checked():
    op = only_op(BASE, defn({"name": NAME, "count": COUNT}, required=["name"]))
    assert (op.changes, op.risk_of) == (("required",), Risk.CHECKED)


def test_making_a_field_optional_is_safe():
    old = defn({"name": NAME, "count": COUNT}, required=["name"])
    assert only_op(old, BASE).risk_of is Risk.SAFE


def test_removing_a_choice_value_is_checked_and_adding_one_is_safe():
    old = defn({"stage": {"type": "string", "enum": ["new", "won"]}})
    fewer = defn({"stage": {"type": "string", "enum": ["new"]}})
    more = defn({"stage": {"type": "string", "enum": ["new", "won", "lost"]}})
    assert only_op(old, fewer).risk_of is Risk.CHECKED
    assert only_op(old, more).risk_of is Risk.SAFE


def test_a_new_minimum_is_checked_and_dropping_it_is_safe():
    bounded = defn({"count": {"type": "integer", "minimum": 0}})
    free = defn({"count": COUNT})
    assert only_op(free, bounded).risk_of is Risk.CHECKED
    assert only_op(bounded, free).risk_of is Risk.SAFE


def test_restricting_currencies_is_checked_and_allowing_more_is_safe():
    eur = defn({"m": {"x-xrm": {"type": "money", "currencies": ["EUR"]}}})
    eur_usd = defn({"m": {"x-xrm": {"type": "money", "currencies": ["EUR", "USD"]}}})
    anything = defn({"m": {"x-xrm": {"type": "money"}}})
    assert only_op(eur_usd, eur).risk_of is Risk.CHECKED
    assert only_op(anything, eur).risk_of is Risk.CHECKED
    assert only_op(eur, eur_usd).risk_of is Risk.SAFE
    assert only_op(eur, anything).risk_of is Risk.SAFE


def test_a_new_decimal_scale_is_a_checked_column_change():
    old = defn({"r": {"x-xrm": {"type": "decimal", "scale": 2}}})
    op = only_op(old, defn({"r": {"x-xrm": {"type": "decimal", "scale": 4}}}))
    assert (op.changes, op.risk_of, op.column_change) == (("scale",), Risk.CHECKED, True)


def test_a_new_on_delete_rule_is_a_column_change():
    old = defn({"r": {"x-xrm": {"type": "reference", "target": "crm.a"}}})
    new = defn({"r": {"x-xrm": {"type": "reference", "target": "crm.a", "onDelete": "cascade"}}})
    op = only_op(old, new)
    assert (op.changes, op.column_change) == (("onDelete",), True)


def test_the_target_of_a_reference_cannot_change():
    old = defn({"r": {"x-xrm": {"type": "reference", "target": "crm.a"}}})
    new = defn({"r": {"x-xrm": {"type": "reference", "target": "crm.b"}}})
    assert problems_of(old, new) == [
        (
            "/properties/r/x-xrm/target",
            "the target of crm.a.r cannot change (crm.a -> crm.b); add a new field",
        )
    ]


# -- indexes and unique constraints -----------------------------------------------------------


def test_a_new_index_is_safe():
    op = only_op(BASE, defn({"name": {"type": "string", "x-xrm": {"index": True}}, "count": COUNT}))
    assert op == AddIndex("crm.a", name="ix_crm_a_name", columns=("name",), fields=("name",))
    assert op.risk_of is Risk.SAFE


def test_a_new_unique_field_is_a_checked_unique_index():
    op = only_op(
        BASE, defn({"name": {"type": "string", "x-xrm": {"unique": True}}, "count": COUNT})
    )
    assert isinstance(op, AddIndex)
    assert (op.name, op.unique, op.risk_of) == ("uq_crm_a_name", True, Risk.CHECKED)
    assert op.describe() == "add unique constraint on name"


def test_a_unique_group_is_one_checked_index_over_several_columns():
    op = only_op(BASE, defn({"name": NAME, "count": COUNT}, unique=[["name", "count"]]))
    assert (op.columns, op.unique, op.risk_of) == (("name", "count"), True, Risk.CHECKED)


def test_an_index_on_a_money_field_covers_both_columns():
    old = defn({"price": {"x-xrm": {"type": "money"}}})
    new = defn({"price": {"x-xrm": {"type": "money", "index": True}}})
    assert only_op(old, new).columns == ("price_amount", "price_currency")


def test_dropping_an_index_is_safe():
    old = defn({"name": {"type": "string", "x-xrm": {"index": True}}, "count": COUNT})
    op = only_op(old, BASE)
    assert op == DropIndex("crm.a", name="ix_crm_a_name", columns=("name",))
    assert op.risk_of is Risk.SAFE


def test_a_reference_gets_an_index_without_asking():
    old = defn({"name": NAME})
    new = defn({"name": NAME, "parent": {"x-xrm": {"type": "reference", "target": "crm.a"}}})
    ops = field_ops(old, new)
    assert [op.kind for op in ops] == ["add_field", "add_index"]
    assert ops[1].name == "ix_crm_a_parent"


# -- the plan as a whole ----------------------------------------------------------------------


def test_the_risk_of_a_plan_is_the_highest_risk_of_its_operations():
    new = defn({"name": {"type": "string", "x-xrm": {"index": True}}, "extra": NAME})
    plan = plan_changes({"crm.a": BASE}, {"crm.a": new})
    assert {op.risk_of for op in plan.operations} == {Risk.SAFE, Risk.DESTRUCTIVE}
    assert plan.risk is Risk.DESTRUCTIVE


def test_an_empty_plan_is_safe():
    plan = MigrationPlan()
    assert (plan.is_empty, plan.risk) == (True, Risk.SAFE)


def test_a_plan_serializes_to_plain_json_data():
    import json

    new = defn(
        {"title": {"type": "string", "x-xrm": {"renamedFrom": "name"}}, "count": {"type": "string"}}
    )
    plan = plan_changes({"crm.a": BASE}, {"crm.a": new}, base_version=7)
    data = plan.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["baseVersion"] == 7
    assert data["risk"] == "checked"
    assert [op["op"] for op in data["operations"]] == [
        "update_entity",
        "rename_field",
        "alter_field",
        "convert_field",
    ]
    assert data["operations"][1] | {"description": None} == {
        "op": "rename_field",
        "entity": "crm.a",
        "risk": "safe",
        "old": "name",
        "new": "title",
        "description": None,
    }


def test_planning_does_not_change_its_inputs():
    old = defn({"name": NAME, "count": COUNT})
    new = defn({"title": {"type": "string", "x-xrm": {"renamedFrom": "name"}}})
    before = (old, new)
    plan_changes({"crm.a": old}, {"crm.a": new})
    assert (old, new) == before
    assert [f.name for f in old.fields] == ["name", "count"]
