"""Invalid definitions are rejected with every problem, each at a JSON pointer, and change
nothing in the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xrm.metadata.errors import DefinitionInvalid
from xrm.metadata.validation import check_all, check_definition

#: One document with many independent mistakes, and where each one must be reported.
BROKEN = {
    "x-xrm": {"name": "crm.Broken", "bogus": 1},
    "required": ["missing"],
    "properties": {
        "id": {"type": "string"},
        "age": {"type": "integer", "maxLength": 3},
        "owner": {"x-xrm": {"type": "reference", "target": "crm.nothing"}},
        "status": {"type": "string", "enum": ["open", "closed"], "default": "pending"},
    },
}
BROKEN_POINTERS = {
    "/x-xrm",
    "/x-xrm/name",
    "/required/0",
    "/properties/id",
    "/properties/age/maxLength",
    "/properties/owner/x-xrm/target",
    "/properties/status/default",
}


def problems_of(docs, registry) -> dict[str, str]:
    with pytest.raises(DefinitionInvalid) as info:
        registry.plan(docs)
    return {p.pointer: p.message for p in info.value.problems}


def pointers(doc, known=None) -> set[str]:
    with pytest.raises(DefinitionInvalid) as info:
        check_definition(doc, known or {})
    return {p.pointer for p in info.value.problems}


def test_an_invalid_definition_reports_every_problem_not_just_the_first(registry):
    assert set(problems_of([BROKEN], registry)) == BROKEN_POINTERS


def test_each_problem_has_a_plain_message_naming_what_is_wrong(registry):
    messages = problems_of([BROKEN], registry)
    assert "bogus" in messages["/x-xrm"]
    assert "'missing'" in messages["/required/0"]
    assert "reserved" in messages["/properties/id"]
    assert messages["/properties/age/maxLength"] == "maxLength does not apply to integer fields"
    assert "'crm.nothing' does not exist" in messages["/properties/owner/x-xrm/target"]
    assert "'pending' is not one of open, closed" in messages["/properties/status/default"]


def test_the_error_message_lists_the_problems_and_names_the_entity(registry):
    with pytest.raises(DefinitionInvalid) as info:
        registry.plan([BROKEN])
    text = str(info.value)
    assert "crm.Broken" in text
    assert f"({len(BROKEN_POINTERS)} problem(s))" in text
    assert "/properties/age/maxLength: maxLength does not apply" in text


def test_an_invalid_definition_maps_to_http_422():
    assert DefinitionInvalid.status == 422


def test_a_rejected_definition_changes_nothing_in_the_database(registry, engine, state):
    before = state(registry)
    with pytest.raises(DefinitionInvalid):
        registry.plan([BROKEN])
    assert state(registry) == before
    assert registry.version() == 0
    assert "crm_broken" not in sa.inspect(engine).get_table_names()


def test_a_valid_document_is_not_applied_when_another_in_the_same_batch_is_invalid(
    registry, engine
):
    good = {"x-xrm": {"name": "crm.good"}, "properties": {"name": {"type": "string"}}}
    bad = {"x-xrm": {"name": "crm.bad"}, "properties": {"id": {"type": "string"}}}
    with pytest.raises(DefinitionInvalid):
        registry.plan([good, bad])
    assert registry.version() == 0
    assert "crm_good" not in sa.inspect(engine).get_table_names()


def test_problems_of_a_batch_are_prefixed_with_the_entity_they_belong_to(registry):
    one = {"x-xrm": {"name": "crm.one"}, "properties": {"id": {"type": "string"}}}
    two = {"x-xrm": {"name": "crm.two"}, "properties": {"n": {"type": "integer", "pattern": "x"}}}
    assert set(problems_of([one, two], registry)) == {
        "crm.one#/properties/id",
        "crm.two#/properties/n/pattern",
    }


def test_a_document_without_name_and_properties_names_both_missing_keywords():
    with pytest.raises(DefinitionInvalid) as info:
        check_definition({}, {})
    assert [p.message for p in info.value.problems] == [
        "'x-xrm' is a required property",
        "'properties' is a required property",
    ]
    assert all(p.pointer == "" for p in info.value.problems)


@pytest.mark.parametrize("document", [42, "crm.contact", ["x"], None])
def test_a_document_that_is_not_a_json_object_is_rejected_not_crashed_on(registry, document):
    with pytest.raises(DefinitionInvalid) as info:
        registry.plan([document])
    assert info.value.problems
    assert registry.version() == 0


def test_an_unknown_field_type_is_reported_at_its_type_keyword():
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"f": {"x-xrm": {"type": "colour"}}}}
    assert pointers(doc) == {"/properties/f/x-xrm/type"}


def test_a_field_whose_type_cannot_be_inferred_asks_for_x_xrm_type():
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"tags": {"type": "array"}}}
    with pytest.raises(DefinitionInvalid) as info:
        check_definition(doc, {})
    assert [str(p) for p in info.value.problems] == [
        "/properties/tags: cannot tell the field type from the schema; set x-xrm.type"
    ]


def option_problem(doc):
    with pytest.raises(DefinitionInvalid) as info:
        check_definition(doc, {})
    [problem] = info.value.problems
    return problem


def test_an_option_of_another_field_type_is_rejected():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {"n": {"type": "integer", "x-xrm": {"target": "crm.a"}}},
    }
    problem = option_problem(doc)
    assert problem.pointer.startswith("/properties/n/x-xrm")
    assert "'target'" in problem.message


def test_an_option_of_another_field_type_is_rejected_when_the_type_is_explicit():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {"n": {"x-xrm": {"type": "integer", "currencies": ["EUR"]}}},
    }
    problem = option_problem(doc)
    assert problem.pointer.startswith("/properties/n/x-xrm")
    assert "'currencies'" in problem.message


def test_a_column_collision_between_a_money_field_and_another_field_is_rejected():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {
            "price": {"x-xrm": {"type": "money"}},
            "price_amount": {"type": "string"},
        },
    }
    with pytest.raises(DefinitionInvalid) as info:
        check_definition(doc, {})
    [problem] = info.value.problems
    assert problem.pointer == "/properties/price_amount"
    assert "collides" in problem.message


def test_a_choice_field_needs_values():
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"c": {"x-xrm": {"type": "choice"}}}}
    assert pointers(doc) == {"/properties/c"}


def test_choice_values_come_from_options_when_enum_is_absent():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {
            "c": {"x-xrm": {"type": "choice", "options": [{"value": "a", "label": "A"}]}}
        },
    }
    defn = check_definition(doc, {})
    assert list(defn.field("c").schema["enum"]) == ["a"]


def test_an_autonumber_field_needs_a_format():
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"no": {"x-xrm": {"type": "autonumber"}}}}
    assert pointers(doc) == {"/properties/no/x-xrm"}


def test_a_reference_needs_a_target():
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"r": {"x-xrm": {"type": "reference"}}}}
    assert pointers(doc) == {"/properties/r/x-xrm"}


def test_a_reference_may_target_its_own_entity():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {"parent": {"x-xrm": {"type": "reference", "target": "crm.a"}}},
    }
    assert check_definition(doc, {}).field("parent").opt("target") == "crm.a"


def test_set_null_on_delete_is_rejected_for_a_required_reference():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "required": ["parent"],
        "properties": {
            "parent": {"x-xrm": {"type": "reference", "target": "crm.a", "onDelete": "setNull"}}
        },
    }
    assert pointers(doc) == {"/properties/parent/x-xrm/onDelete"}


def test_references_between_documents_of_one_batch_resolve():
    account = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}
    contact = {
        "x-xrm": {"name": "crm.contact"},
        "properties": {"account": {"x-xrm": {"type": "reference", "target": "crm.account"}}},
    }
    names = [d.name for d in check_all([contact, account], {})]
    assert names == ["crm.contact", "crm.account"]


def test_a_reserved_namespace_is_rejected():
    doc = {"x-xrm": {"name": "xrm.user"}, "properties": {"n": {"type": "string"}}}
    assert pointers(doc) == {"/x-xrm/name"}


@pytest.mark.parametrize("name", ["select", "order", "id", "created_at", "deleted_at"])
def test_reserved_field_names_are_rejected(name):
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {name: {"type": "string"}}}
    assert pointers(doc) == {f"/properties/{name}"}


@pytest.mark.parametrize("name", ["Name", "1st", "first-name", "x" * 41])
def test_field_names_must_be_lower_case_identifiers(name):
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {name: {"type": "string"}}}
    # reported at the property itself, or at /properties where the meta-schema checks names
    assert pointers(doc) <= {"/properties", f"/properties/{name}"}


def test_list_options_must_name_fields_of_the_entity():
    doc = {
        "x-xrm": {
            "name": "crm.a",
            "titleField": "nope",
            "searchFields": ["n", "gone"],
            "listColumns": ["missing"],
        },
        "properties": {"n": {"type": "string"}},
    }
    assert pointers(doc) == {"/x-xrm/titleField", "/x-xrm/searchFields/1", "/x-xrm/listColumns/0"}


def test_indexes_and_unique_groups_must_name_indexable_fields():
    doc = {
        "x-xrm": {
            "name": "crm.a",
            "unique": [["n", "ghost"]],
            "indexes": [{"fields": ["data"]}],
        },
        "properties": {"n": {"type": "string"}, "data": {"type": "object"}},
    }
    assert pointers(doc) == {"/x-xrm/unique/0/1", "/x-xrm/indexes/0/fields/0"}


def test_a_json_field_cannot_be_unique():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {"data": {"type": "object", "x-xrm": {"unique": True}}},
    }
    assert pointers(doc) == {"/properties/data/x-xrm"}


def test_a_default_must_be_a_valid_value_of_its_field():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {
            "n": {"type": "integer", "maximum": 10, "default": 11},
            "d": {"type": "string", "format": "date", "default": "yesterday"},
        },
    }
    assert pointers(doc) == {"/properties/n/default", "/properties/d/default"}


def test_a_many_to_many_field_cannot_have_a_default():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {
            "tags": {"x-xrm": {"type": "manytomany", "target": "crm.a"}, "default": [1]}
        },
    }
    assert pointers(doc) == {"/properties/tags/default"}


def test_a_valid_document_is_normalized_to_a_self_contained_draft_2020_12_schema():
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"n": {"type": "string"}}}
    defn = check_definition(doc, {})
    assert defn.document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert defn.document["type"] == "object"


@pytest.mark.parametrize(
    ("prop", "ftype"),
    [
        ({"type": "string"}, "text"),
        ({"type": ["string", "null"]}, "text"),
        ({"type": "string", "format": "date"}, "date"),
        ({"type": "string", "format": "date-time"}, "datetime"),
        ({"type": "string", "format": "uuid"}, "uuid"),
        ({"type": "string", "enum": ["a", "b"]}, "choice"),
        ({"type": "array", "items": {"type": "string", "enum": ["a"]}}, "multichoice"),
        ({"type": "integer"}, "integer"),
        ({"type": "number"}, "float"),
        ({"type": "boolean"}, "boolean"),
        ({"type": "object"}, "json"),
    ],
)
def test_the_field_type_is_inferred_from_standard_json_schema_keywords(prop, ftype):
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"f": prop}}
    assert check_definition(doc, {}).field("f").type == ftype
