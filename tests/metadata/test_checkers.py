"""Field checkers (xrm.metadata.checkers) against the field types' own ``coerce``: the same
value, or the same error message, for every value; and what a checker accepts from a client is
valid against the field's published JSON Schema (jsonschema as the reference)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from xrm.metadata.checkers import column_checker, field_checker, validate_columns
from xrm.metadata.compiler import CompiledEntity
from xrm.metadata.fieldtypes import FIELD_TYPES, FieldValueError, nullable
from xrm.metadata.model import parse_definition, parse_field


def spec(ftype: str, **prop: Any):
    options = prop.pop("x_xrm", {})
    return parse_field("f", {**prop, "x-xrm": {"type": ftype, **options}}, False)


#: Fields whose checker has a fast path, with and without the options that shape it.
SPECS = [
    ("text", {}),
    ("text", {"maxLength": 5}),
    ("text", {"format": "email"}),
    ("text", {"format": "phone"}),
    ("text", {"format": "url"}),
    ("text", {"minLength": 2, "pattern": "^[a-z]+$"}),
    ("longtext", {}),
    ("longtext", {"maxLength": 8}),
    ("integer", {}),
    ("integer", {"minimum": 1, "maximum": 5}),
    ("integer", {"exclusiveMinimum": 0}),
    ("bigint", {"minimum": -3}),
    ("float", {}),
    ("float", {"minimum": 0, "maximum": 100}),
    ("float", {"exclusiveMaximum": 1}),
    ("boolean", {}),
    ("date", {}),
    ("datetime", {}),
    ("choice", {"enum": ["open", "won", "lost"]}),
    (
        "choice",
        {"enum": ["a", "b"], "x_xrm": {"options": [{"value": "a", "label": "Alpha"}]}},
    ),
    ("reference", {"x_xrm": {"target": "crm.a"}}),
]

TEXTS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "Ada",
            "ada@example.org",
            "not an e-mail",
            "+49 30 1234567",
            "https://example.org/x",
            "a\x00b",
            "Müller",
            "\ud800",
            "abcdefghijk",
            "true",
            "False",
            " yes ",
            "x",
            "off",
            "42",
            "007",
            "-5",
            " 12 ",
            "1e3",
            "2.50",
            "nan",
            "inf",
            "-inf",
            "1_000",
            "²",
            "٣",
            "2147483648",
            "2024-02-29",
            "2024-02-30",
            " 2024-02-29",
            "2024-W01-1",
            "20240229",
            "2024-05-01T10:00:00",
            "2024-05-01 10:00:00",
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00z",
            "2024-05-01T10:00:00+02:00",
            "2024-05-01T10:00:00.250000",
            " 2024-05-01T10:00:00",
            "2024-05-01T10:00:00 ",
            "open",
            "Open",
            "alpha",
            "Alpha",
            "won",
        ]
    ),
)
VALUES = st.one_of(
    TEXTS,
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, 1, 5, 6, -1, 2**31, 2**63, True, False, None, 1.0, 2.5, -0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            Decimal("1.5"),
            Decimal("NaN"),
            dt.date(2024, 1, 2),
            dt.datetime(2024, 1, 2, 3, 4),
            [],
            ["open"],
            {"id": 3},
        ]
    ),
)


def outcome(function, *args) -> tuple[str, Any]:
    try:
        value = function(*args)
    except FieldValueError as exc:
        return ("refused", str(exc))
    except (ValueError, OverflowError, TypeError, AttributeError) as exc:
        # Not a message for the user: the type fails the same way with or without its checker
        # (an integer field given a NaN float, leniently, is one).
        return ("raised", type(exc).__name__)
    return ("accepted", (type(value), value))


@pytest.mark.parametrize(
    ("ftype", "prop"), SPECS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(SPECS)]
)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES, lenient=st.booleans())
def test_a_checker_gives_what_its_field_type_gives_for_any_value(ftype, prop, value, lenient):
    s = spec(ftype, **dict(prop))
    coerce = FIELD_TYPES[ftype].coerce
    expected = outcome(coerce, s, value, lenient)
    got = outcome(field_checker(s, coerce), value, lenient)
    if expected[0] == "accepted" and isinstance(value, float) and value != value:
        return  # NaN is never accepted; equality of NaN results says nothing
    assert got == expected


@pytest.mark.parametrize(
    ("ftype", "prop"), SPECS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(SPECS)]
)
@settings(max_examples=150, deadline=None)
@given(value=VALUES)
def test_what_a_checker_accepts_from_a_client_is_valid_against_the_json_schema(ftype, prop, value):
    s = spec(ftype, **dict(prop))
    check = field_checker(s, FIELD_TYPES[ftype].coerce)
    try:
        check(value, False)
    except (ValueError, OverflowError, TypeError, AttributeError):
        return
    schema = nullable(FIELD_TYPES[ftype].value_schema(s), False)
    if isinstance(value, dt.date | Decimal):
        return  # Python values (from a spreadsheet, or in storage) are no JSON
    if ftype == "reference" and isinstance(value, dict):
        return  # an expanded record ({"id": 3}) is taken for its id, beyond the schema
    # Formats are the platform's own (an empty text passes an e-mail field, an ISO week date a
    # date field): the schema's type, length, range and enum are what is compared.
    validator = Draft202012Validator(schema)
    assert validator.is_valid(value), (value, schema)


def test_a_compiled_entity_validates_with_the_checkers_and_the_types_messages():
    ce = CompiledEntity(
        parse_definition(
            {
                "x-xrm": {"name": "crm.t"},
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": 5},
                    "age": {"type": "integer", "minimum": 0},
                    "born": {"type": "string", "format": "date"},
                },
            }
        )
    )
    values, problems = ce.validate({"name": "Ada", "age": "7", "born": "2024-01-02"}, lenient=True)
    assert values == {"name": "Ada", "age": 7, "born": dt.date(2024, 1, 2)} and problems == []
    _, problems = ce.validate({"name": "Adalbert", "age": -1, "born": "2024-02-30"})
    assert [p.message for p in problems] == [
        "Name is longer than 5 characters (8)",
        "Age must be at least 0",
        "Born '2024-02-30' is not a date (YYYY-MM-DD)",
    ]


# -- whole columns ------------------------------------------------------------------------------

#: Columns as an import or a bulk create gives them: mostly one kind of value, sometimes mixed.
COLUMNS = st.one_of(
    st.lists(VALUES, min_size=1, max_size=6),
    st.lists(TEXTS, min_size=1, max_size=6),
    st.lists(st.integers(min_value=-10, max_value=2**33), min_size=1, max_size=6),
    st.lists(
        st.sampled_from(["1", "5", "007", "2024-02-29", "2024-05-01T10:00:00", "open", "true"]),
        min_size=1,
        max_size=6,
    ),
)


@pytest.mark.parametrize(
    ("ftype", "prop"), SPECS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(SPECS)]
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=COLUMNS, lenient=st.booleans())
def test_a_column_checker_gives_what_the_field_checker_gives_for_each_value(
    ftype, prop, values, lenient
):
    s = spec(ftype, **dict(prop))
    check = field_checker(s, FIELD_TYPES[ftype].coerce)
    converted, refused = column_checker(s, check)(list(values), lenient)
    expected = [outcome(check, v, lenient) for v in values]
    assert refused == [n for n, (kind, _) in enumerate(expected) if kind != "accepted"]
    for n, (kind, result) in enumerate(expected):
        if kind == "accepted" and not (isinstance(values[n], float) and values[n] != values[n]):
            assert (type(converted[n]), converted[n]) == result


ENTITY = CompiledEntity(
    parse_definition(
        {
            "x-xrm": {"name": "crm.t"},
            "required": ["name", "stage"],
            "properties": {
                "name": {"type": "string", "maxLength": 5},
                "stage": {"type": "string", "enum": ["open", "won"], "default": "open"},
                "age": {"type": "integer", "minimum": 0},
                "born": {"type": "string", "format": "date"},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                "code": {"type": "string", "readOnly": True},
            },
        }
    )
)
ROWS = st.lists(
    st.dictionaries(
        st.sampled_from(["name", "stage", "age", "born", "tags", "code", "id", "nope"]),
        st.one_of(
            st.sampled_from(["Ada", "Adalbert", "open", "won", "7", "-1", "2024-01-02", "", None]),
            st.sampled_from([[], ["a"], ["c"], 3, -2, True]),
        ),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(rows=ROWS, lenient=st.booleans())
def test_columns_validate_as_the_entity_validates_each_record(rows, lenient):
    checked = validate_columns(ENTITY, rows, lenient)
    for row, given_values in zip(rows, checked, strict=True):
        values, problems = ENTITY.validate(row, lenient=lenient)
        if problems:
            assert given_values is None
        elif set(row) <= {"name", "stage", "age", "born", "tags"}:
            assert given_values == values
        else:
            assert given_values is None  # a system field: the record is validated alone
