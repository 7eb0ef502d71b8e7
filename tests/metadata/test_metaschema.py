"""The published entity meta-schema: generated from the field-type registry and shipped as a
file that must stay in sync with it."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from xrm.metadata.fieldtypes import FIELD_TYPES
from xrm.metadata.metaschema import (
    ENTITY_SCHEMA_FILE,
    build_entity_metaschema,
    entity_metaschema,
)
from xrm.metadata.validation import metaschema_problems


def test_the_shipped_meta_schema_file_is_in_sync_with_the_field_type_registry():
    shipped = json.loads(ENTITY_SCHEMA_FILE.read_text())
    assert shipped == build_entity_metaschema(), (
        "regenerate with: python -m xrm.metadata.metaschema"
    )


def test_the_meta_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(entity_metaschema())


def test_the_meta_schema_lists_every_field_type():
    schema = entity_metaschema()
    allowed = schema["$defs"]["field"]["properties"]["x-xrm"]["properties"]["type"]["enum"]
    assert allowed == sorted(FIELD_TYPES)


@pytest.mark.parametrize("ftype", sorted(FIELD_TYPES))
def test_the_meta_schema_allows_exactly_the_options_of_each_field_type(ftype):
    rules = entity_metaschema()["$defs"]["field"]["allOf"]
    [rule] = [
        r for r in rules if r["if"]["properties"]["x-xrm"]["properties"]["type"]["const"] == ftype
    ]
    then = rule["then"]["properties"]["x-xrm"]
    assert set(then["properties"]) == set(FIELD_TYPES[ftype].params)
    assert set(FIELD_TYPES[ftype].params) <= set(then["propertyNames"]["enum"])


def test_a_definition_must_itself_be_valid_json_schema():
    doc = {"x-xrm": {"name": "crm.a"}, "properties": {"n": {"type": "text"}}}
    assert [p.pointer for p in metaschema_problems(doc)] == ["/properties/n/type"]


def test_an_option_of_the_wrong_type_is_reported_at_its_pointer():
    doc = {
        "x-xrm": {"name": "crm.a"},
        "properties": {"n": {"x-xrm": {"type": "decimal", "precision": 99}}},
    }
    [problem] = metaschema_problems(doc)
    assert problem.pointer == "/properties/n/x-xrm/precision"
    assert "99" in problem.message


def test_an_unknown_entity_option_is_reported():
    doc = {"x-xrm": {"name": "crm.a", "colour": "red"}, "properties": {}}
    [problem] = metaschema_problems(doc)
    assert problem.pointer == "/x-xrm"
    assert "colour" in problem.message


def test_a_valid_definition_has_no_meta_schema_problems():
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": "Contact",
        "x-xrm": {
            "name": "crm.contact",
            "labels": {"singular": "Contact", "plural": "Contacts"},
            "titleField": "name",
            "indexes": [{"fields": ["name"], "name": "ix_contact_name"}],
            "unique": [["email"]],
        },
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 100, "title": "Name"},
            "email": {"type": "string", "format": "email"},
            "price": {"x-xrm": {"type": "money", "defaultCurrency": "EUR"}},
        },
    }
    assert metaschema_problems(doc) == []
