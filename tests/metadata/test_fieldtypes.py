"""Every field type: which values it accepts (coerce), how it writes them back (dump), which
columns it needs, and that a stored record is valid against the published record schema."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from xrm.metadata.compiler import compile_snapshot
from xrm.metadata.fieldtypes import FIELD_TYPES, FieldValueError
from xrm.metadata.model import parse_definition, parse_field


def spec(ftype: str, required: bool = False, **prop: Any):
    """A field of type ``ftype``; ``x_xrm`` holds the type's own options."""
    options = prop.pop("x_xrm", {})
    return parse_field("f", {**prop, "x-xrm": {"type": ftype, **options}}, required)


def coerce(s, value, lenient=False):
    return FIELD_TYPES[s.type].coerce(s, value, lenient)


def round_trip(s, value):
    """JSON value -> stored value -> JSON value."""
    ftype = FIELD_TYPES[s.type]
    return ftype.dump(s, ftype.coerce(s, value, False))


# -- accepted values, and their canonical JSON form ------------------------------------------

VALID = [
    ("text", {}, "Ada", "Ada"),
    ("text", {"format": "email"}, "ada@example.org", "ada@example.org"),
    ("text", {"format": "url"}, "https://example.org/x", "https://example.org/x"),
    ("text", {"format": "phone"}, "+49 30 1234567", "+49 30 1234567"),
    ("longtext", {}, "line 1\nline 2", "line 1\nline 2"),
    ("integer", {}, 42, 42),
    ("integer", {}, -(2**31), -(2**31)),
    ("bigint", {}, 2**40, 2**40),
    ("decimal", {}, "12.345", "12.35"),
    ("decimal", {}, 7, "7.00"),
    ("decimal", {"x_xrm": {"precision": 6, "scale": 3}}, 1.5, "1.500"),
    ("float", {}, 2.5, 2.5),
    ("money", {}, {"amount": "10", "currency": "EUR"}, {"amount": "10.00", "currency": "EUR"}),
    ("money", {"x_xrm": {"defaultCurrency": "USD"}}, "3.5", {"amount": "3.50", "currency": "USD"}),
    ("boolean", {}, False, False),
    ("date", {}, "2024-02-29", "2024-02-29"),
    ("datetime", {}, "2024-05-01T10:00:00+02:00", "2024-05-01T08:00:00Z"),
    ("datetime", {}, "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
    ("datetime", {}, "2024-05-01T10:00:00.250000", "2024-05-01T10:00:00.250000Z"),
    ("choice", {"enum": ["open", "won"]}, "won", "won"),
    ("multichoice", {"items": {"enum": ["a", "b", "c"]}}, ["c", "a"], ["c", "a"]),
    ("json", {}, {"nested": [1, {"x": None}]}, {"nested": [1, {"x": None}]}),
    (
        "uuid",
        {},
        "12345678-1234-5678-1234-567812345678",
        "12345678-1234-5678-1234-567812345678",
    ),
    ("reference", {"x_xrm": {"target": "crm.a"}}, 7, 7),
    ("regarding", {}, {"entity": "crm.a", "id": 3}, {"entity": "crm.a", "id": 3}),
    ("manytomany", {"x_xrm": {"target": "crm.a"}}, [3, 1], [3, 1]),
]


@pytest.mark.parametrize(
    ("ftype", "prop", "value", "expected"),
    VALID,
    ids=[f"{v[0]}-{i}" for i, v in enumerate(VALID)],
)
def test_a_valid_value_survives_a_round_trip_in_its_canonical_form(ftype, prop, value, expected):
    assert round_trip(spec(ftype, **prop), value) == expected


INVALID = [
    ("text", {}, 5, "expected a string, got int"),
    ("text", {"maxLength": 3}, "abcd", "is longer than 3 characters (4)"),
    ("text", {}, "x" * 256, "is longer than 255 characters (256)"),
    ("text", {"minLength": 2}, "a", "is shorter than 2 characters"),
    ("text", {"pattern": "^[A-Z]+$"}, "abc", "does not match the pattern ^[A-Z]+$"),
    ("text", {"format": "email"}, "bob", "'bob' is not a valid e-mail address"),
    ("text", {"format": "url"}, "javascript:alert(1)", "is not a valid URL"),
    ("text", {"format": "phone"}, "call me", "is not a valid phone number"),
    ("integer", {}, "5", "expected a whole number, got '5'"),
    ("integer", {}, True, "expected a whole number, got bool"),
    ("integer", {}, 1.5, "expected a whole number, got float"),
    ("integer", {}, 2**31, "is out of range"),
    ("integer", {"minimum": 0}, -1, "must be at least 0"),
    ("integer", {"maximum": 9}, 10, "must be at most 9"),
    ("integer", {"exclusiveMinimum": 0}, 0, "must be greater than 0"),
    ("integer", {"exclusiveMaximum": 0}, 0, "must be less than 0"),
    ("bigint", {}, 2**63, "is out of range"),
    ("decimal", {}, "abc", "'abc' is not a number"),
    ("decimal", {}, True, "expected a number, got bool"),
    ("decimal", {"x_xrm": {"precision": 5, "scale": 2}}, "1234.5", "more than 3 digits"),
    ("decimal", {}, "NaN", "must be a finite number"),
    ("float", {}, float("inf"), "must be a finite number"),
    ("float", {}, "2.5", "expected a number, got '2.5'"),
    ("money", {}, "10", 'expected {"amount": ..., "currency": "EUR"}'),
    ("money", {}, {"amount": "1", "currency": "eur"}, "is not an ISO 4217 code"),
    ("money", {}, {"amount": "1", "currency": "EUR", "x": 1}, "unknown key(s) ['x']"),
    ("money", {}, {"currency": "EUR"}, "amount is missing"),
    (
        "money",
        {"x_xrm": {"currencies": ["EUR", "CHF"]}},
        {"amount": "1", "currency": "USD"},
        "currency USD is not one of EUR, CHF",
    ),
    ("boolean", {}, "yes", "expected true or false, got 'yes'"),
    ("boolean", {}, 1, "expected true or false, got int"),
    ("date", {}, "2024-02-30", "'2024-02-30' is not a date (YYYY-MM-DD)"),
    ("date", {}, 20240101, "expected a date (YYYY-MM-DD), got int"),
    ("datetime", {}, "noon", "'noon' is not an ISO 8601 date-time"),
    ("choice", {"enum": ["open", "won"]}, "lost", "'lost' is not one of open, won"),
    ("choice", {"enum": ["open"]}, 1, "expected one of ['open'], got int"),
    ("multichoice", {"items": {"enum": ["a", "b"]}}, ["a", "a"], "'a' is given twice"),
    ("multichoice", {"items": {"enum": ["a", "b"]}}, "a", "expected a list of values"),
    ("multichoice", {"items": {"enum": ["a"]}}, ["z"], "'z' is not one of a"),
    ("multichoice", {"items": {"enum": ["a", "b"]}, "maxItems": 1}, ["a", "b"], "at most 1"),
    ("json", {}, [1, 2], "expected a JSON object, got list"),
    ("uuid", {}, "not-a-uuid", "'not-a-uuid' is not a UUID"),
    ("autonumber", {"x_xrm": {"format": "C-{SEQ:3}"}}, "C-001", "is numbered automatically"),
    ("reference", {"x_xrm": {"target": "crm.a"}}, 0, "expected a record id"),
    ("reference", {"x_xrm": {"target": "crm.a"}}, "7", "expected a record id"),
    ("reference", {"x_xrm": {"target": "crm.a"}}, True, "expected a record id"),
    ("regarding", {}, {"entity": "crm.a"}, 'expected {"entity": "<entity name>", "id"'),
    (
        "regarding",
        {"x_xrm": {"targets": ["crm.a"]}},
        {"entity": "crm.b", "id": 1},
        "entity 'crm.b' cannot be referenced here (one of crm.a)",
    ),
    ("manytomany", {"x_xrm": {"target": "crm.a"}}, [1, 1], "lists a record twice"),
    ("manytomany", {"x_xrm": {"target": "crm.a"}}, 1, "expected a list of record ids"),
]


@pytest.mark.parametrize(
    ("ftype", "prop", "value", "message"),
    INVALID,
    ids=[f"{v[0]}-{i}" for i, v in enumerate(INVALID)],
)
def test_an_invalid_value_is_refused_with_a_message_saying_why(ftype, prop, value, message):
    with pytest.raises(FieldValueError) as info:
        coerce(spec(ftype, **prop), value)
    assert message in str(info.value)


def test_every_field_type_is_covered_by_valid_and_invalid_examples():
    assert {v[0] for v in VALID} | {"autonumber"} == set(FIELD_TYPES)
    assert {v[0] for v in INVALID} == set(FIELD_TYPES) - {"longtext"}


# -- lenient reading (CSV import, conversions) ------------------------------------------------

LENIENT = [
    ("integer", {}, " 42 ", 42),
    ("integer", {}, 5.0, 5),
    ("text", {}, 12, "12"),
    ("boolean", {}, "Yes", True),
    ("boolean", {}, "off", False),
    ("boolean", {}, 0, False),
    ("float", {}, "2.5", 2.5),
    ("date", {}, "2024-05-01T10:00:00", dt.date(2024, 5, 1)),
    ("datetime", {}, "2024-05-01", dt.datetime(2024, 5, 1)),
    ("multichoice", {"items": {"enum": ["a", "b"]}}, "a; b", ["a", "b"]),
    (
        "choice",
        {"enum": ["a"], "x_xrm": {"options": [{"value": "a", "label": "Alpha"}]}},
        "alpha",
        "a",
    ),
    ("reference", {"x_xrm": {"target": "crm.a"}}, "7", 7),
    ("manytomany", {"x_xrm": {"target": "crm.a"}}, "1, 2", [1, 2]),
    ("json", {}, '{"a": 1}', {"a": 1}),
]


@pytest.mark.parametrize(
    ("ftype", "prop", "value", "expected"),
    LENIENT,
    ids=[f"{v[0]}-{i}" for i, v in enumerate(LENIENT)],
)
def test_lenient_reading_accepts_text_forms_of_values(ftype, prop, value, expected):
    assert coerce(spec(ftype, **prop), value, lenient=True) == expected


def test_strict_reading_refuses_the_text_form_of_a_number():
    with pytest.raises(FieldValueError):
        coerce(spec("integer"), " 42 ")


def test_a_datetime_with_an_offset_is_stored_in_utc_without_tzinfo():
    value = coerce(spec("datetime"), "2024-05-01T10:00:00-05:00")
    assert value == dt.datetime(2024, 5, 1, 15, 0)
    assert value.tzinfo is None


def test_a_decimal_is_rounded_half_up_to_its_scale():
    assert coerce(spec("decimal"), "0.125") == Decimal("0.13")


def test_uuid_values_are_python_uuids_in_storage_and_strings_in_json():
    s = spec("uuid")
    value = coerce(s, "12345678-1234-5678-1234-567812345678")
    assert isinstance(value, uuid.UUID)
    assert isinstance(FIELD_TYPES["uuid"].dump(s, value), str)


@pytest.mark.parametrize("ftype", sorted(set(FIELD_TYPES) - {"manytomany"}))
def test_an_empty_stored_value_dumps_to_null(ftype):
    s = spec(ftype, enum=["a"]) if ftype == "choice" else spec(ftype)
    ft = FIELD_TYPES[ftype]
    empty = {c: None for c in ft.column_names(s)}
    assert ft.from_row(s, empty) is None


# -- columns ----------------------------------------------------------------------------------


def test_money_is_stored_in_an_amount_and_a_currency_column():
    s = parse_field("price", {"x-xrm": {"type": "money", "scale": 3}}, False)
    cols = FIELD_TYPES["money"].columns(s)
    assert [c[0] for c in cols] == ["price_amount", "price_currency"]
    assert isinstance(cols[0][1], sa.Numeric)
    assert cols[0][1].scale == 3
    assert cols[1][1].length == 3


def test_a_money_value_maps_to_both_columns_and_back():
    s = parse_field("price", {"x-xrm": {"type": "money"}}, False)
    ft = FIELD_TYPES["money"]
    row = ft.to_row(s, ft.coerce(s, {"amount": "9.99", "currency": "CHF"}, False))
    assert row == {"price_amount": Decimal("9.99"), "price_currency": "CHF"}
    assert ft.from_row(s, row) == {"amount": "9.99", "currency": "CHF"}


def test_regarding_is_stored_in_an_entity_and_an_id_column():
    s = parse_field("about", {"x-xrm": {"type": "regarding"}}, False)
    ft = FIELD_TYPES["regarding"]
    assert ft.column_names(s) == ["about_entity", "about_id"]
    row = ft.to_row(s, ft.coerce(s, {"entity": "crm.a", "id": 4}, False))
    assert row == {"about_entity": "crm.a", "about_id": 4}


def test_a_text_column_is_as_long_as_max_length():
    s = parse_field("code", {"type": "string", "maxLength": 12}, False)
    [(name, ctype, _kw)] = FIELD_TYPES["text"].columns(s)
    assert (name, ctype.length) == ("code", 12)


def test_a_decimal_column_has_the_declared_precision_and_scale():
    s = parse_field("rate", {"x-xrm": {"type": "decimal", "precision": 9, "scale": 4}}, False)
    [(_n, ctype, _kw)] = FIELD_TYPES["decimal"].columns(s)
    assert (ctype.precision, ctype.scale) == (9, 4)


def test_many_to_many_has_no_column_on_the_entity_table():
    s = parse_field("tags", {"x-xrm": {"type": "manytomany", "target": "crm.tag"}}, False)
    assert FIELD_TYPES["manytomany"].columns(s) == []
    assert FIELD_TYPES["manytomany"].to_row(s, [1, 2]) == {}


def _compiled(*docs):
    return compile_snapshot(1, [parse_definition(d) for d in docs])


def test_many_to_many_is_an_association_table_with_foreign_keys_to_both_sides():
    tag = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}
    contact = {
        "x-xrm": {"name": "crm.contact"},
        "properties": {"tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}}},
    }
    assoc = _compiled(tag, contact).entity("crm.contact").associations["tags"]
    assert assoc.name == "crm_contact__tags"
    assert [c.name for c in assoc.primary_key.columns] == ["source_id", "target_id"]
    fks = {fk.parent.name: (fk.column.table.name, fk.ondelete) for fk in assoc.foreign_keys}
    assert fks == {"source_id": ("crm_contact", "CASCADE"), "target_id": ("crm_tag", "CASCADE")}


def test_a_reference_column_carries_a_named_foreign_key_with_its_on_delete_rule():
    account = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}
    contact = {
        "x-xrm": {"name": "crm.contact"},
        "properties": {
            "account": {
                "x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "setNull"}
            }
        },
    }
    table = _compiled(account, contact).entity("crm.contact").table
    [fk] = table.c.account.foreign_keys
    assert (fk.name, fk.column.table.name, fk.ondelete) == (
        "fk_crm_contact_account",
        "crm_account",
        "SET NULL",
    )


def test_a_reference_restricts_deletes_by_default():
    account = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}
    contact = {
        "x-xrm": {"name": "crm.contact"},
        "properties": {"account": {"x-xrm": {"type": "reference", "target": "crm.account"}}},
    }
    table = _compiled(account, contact).entity("crm.contact").table
    [fk] = table.c.account.foreign_keys
    assert fk.ondelete == "RESTRICT"


def test_every_entity_table_has_the_system_columns():
    table = (
        _compiled({"x-xrm": {"name": "crm.a"}, "properties": {"n": {"type": "string"}}})
        .entity("crm.a")
        .table
    )
    assert [c.name for c in table.c] == [
        "id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "owner_id",
        "row_version",
        "deleted_at",
        "n",
    ]


# -- a stored record is valid against the published record schema -------------------------

KITCHEN_SINK = {
    "x-xrm": {"name": "crm.sink"},
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "maxLength": 80},
        "notes": {"type": "string", "x-xrm": {"type": "longtext"}},
        "count": {"type": "integer", "minimum": 0},
        "big": {"x-xrm": {"type": "bigint"}},
        "rate": {"x-xrm": {"type": "decimal", "precision": 10, "scale": 3}},
        "ratio": {"type": "number"},
        "price": {"x-xrm": {"type": "money", "currencies": ["EUR", "USD"]}},
        "active": {"type": "boolean"},
        "born": {"type": "string", "format": "date"},
        "seen": {"type": "string", "format": "date-time"},
        "stage": {"type": "string", "enum": ["new", "won", "lost"]},
        "labels": {"type": "array", "items": {"type": "string", "enum": ["vip", "press"]}},
        "extra": {"type": "object"},
        "token": {"type": "string", "format": "uuid"},
        "number": {"x-xrm": {"type": "autonumber", "format": "S-{SEQ:4}"}},
        "parent": {"x-xrm": {"type": "reference", "target": "crm.sink", "onDelete": "setNull"}},
        "about": {"x-xrm": {"type": "regarding"}},
        "friends": {"x-xrm": {"type": "manytomany", "target": "crm.sink"}},
    },
}

SINK_VALUES = {
    "title": "First",
    "notes": "many\nlines",
    "count": 3,
    "big": 2**40,
    "rate": "1.2345",
    "ratio": 0.25,
    "price": {"amount": "19.99", "currency": "USD"},
    "active": True,
    "born": "1990-12-31",
    "seen": "2024-05-01T10:00:00+02:00",
    "stage": "won",
    "labels": ["press", "vip"],
    "extra": {"a": [1, 2]},
    "token": "12345678-1234-5678-1234-567812345678",
    "about": {"entity": "crm.sink", "id": 1},
}


@pytest.fixture
def sink(registry, records):
    registry.apply(registry.plan([KITCHEN_SINK]))
    first = records.insert("crm.sink", **SINK_VALUES)
    with registry.engine.begin() as conn:
        table = registry.snapshot().entity("crm.sink").table
        conn.execute(table.update().values(number="S-0001"))
    second = records.insert("crm.sink", title="Second", parent=first, friends=[first])
    return first, second


def test_a_record_with_every_field_type_reads_back_in_canonical_json(sink, records):
    first, _ = sink
    record = records.get("crm.sink", first)
    assert record == {
        **SINK_VALUES,
        "id": first,
        "rate": "1.235",
        "seen": "2024-05-01T08:00:00Z",
        "number": "S-0001",
        "parent": None,
        "created_at": "2024-01-01T12:00:00Z",
        "updated_at": "2024-01-01T12:00:00Z",
        "created_by": None,
        "updated_by": None,
        "owner_id": None,
        "row_version": 1,
    }


def test_a_stored_record_is_valid_against_the_record_schema(sink, records, registry):
    schema = registry.snapshot().entity("crm.sink").record_schema
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for rid in sink:
        record = records.get("crm.sink", rid)
        record["friends"] = [sink[0]] if rid == sink[1] else []
        assert list(validator.iter_errors(record)) == []


def test_the_record_schema_rejects_what_the_field_types_reject(sink, registry):
    validator = Draft202012Validator(registry.snapshot().entity("crm.sink").record_schema)
    bad = {
        "title": None,
        "count": -1,
        "price": {"amount": "1", "currency": "CHF"},
        "stage": "maybe",
        "labels": ["vip", "vip"],
        "parent": 0,
        "about": {"entity": "crm.sink"},
    }
    failing = {e.path[0] for e in validator.iter_errors(bad)}
    assert failing == set(bad)


def test_the_record_schema_marks_generated_fields_read_only(sink, registry):
    props = registry.snapshot().entity("crm.sink").record_schema["properties"]
    assert props["number"]["readOnly"] is True
    assert props["id"]["readOnly"] is True


def test_the_input_schema_lists_only_writable_fields(sink, registry):
    ce = registry.snapshot().entity("crm.sink")
    schema = ce.input_schema
    assert "number" not in schema["properties"]
    assert "id" not in schema["properties"]
    assert schema["required"] == ["title"]
    assert schema["additionalProperties"] is False
