"""Scalar field types: text, numbers, money, booleans, dates, choices, JSON, uuid, autonumber."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ..model import FieldSpec
from .base import FieldType, FieldValueError, copy_keywords

JSON_COLUMN = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

TEXT_OPS = ("eq", "neq", "in", "like", "ilike", "is")
ORDERED_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "is")
DEFAULT_TEXT_LENGTH = 255
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,31}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def _check_string(spec: FieldSpec, value: Any, default_max: int | None) -> str:
    if value.__class__ is not str and not isinstance(value, str):
        raise FieldValueError(f"expected a string, got {type(value).__name__}")
    check_text(value)
    kw = spec.schema.get
    max_len = kw("maxLength", default_max)
    if max_len is not None and len(value) > max_len:
        raise FieldValueError(f"is longer than {max_len} characters ({len(value)})")
    min_len = kw("minLength")
    if min_len is not None and len(value) < min_len:
        raise FieldValueError(f"is shorter than {min_len} characters")
    pattern = kw("pattern")
    if pattern is not None and not re.search(pattern, value):
        raise FieldValueError(f"does not match the pattern {pattern}")
    fmt = kw("format")
    if fmt is None or not value:
        return value
    if fmt == "email":
        if not EMAIL.match(value):
            raise FieldValueError(f"{value!r} is not a valid e-mail address")
    elif fmt == "phone":
        if not PHONE.match(value):
            raise FieldValueError(f"{value!r} is not a valid phone number")
    elif fmt in ("uri", "url"):
        parsed = urlparse(value)
        if not (
            parsed.scheme in ("http", "https", "ftp", "mailto") and (parsed.netloc or parsed.path)
        ):
            raise FieldValueError(f"{value!r} is not a valid URL")
    return value


def check_text(value: str) -> None:
    """Text every database stores: no NUL character, valid Unicode (no lone surrogates)."""
    if value.isascii() and "\x00" not in value:
        return
    if "\x00" in value:
        raise FieldValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldValueError("is not valid Unicode text") from None


def _check_range(spec: FieldSpec, value: Any, limits: tuple[int, int] | None = None) -> Any:
    kw = spec.schema.get
    lo, hi = kw("minimum"), kw("maximum")
    if lo is not None and value < lo:
        raise FieldValueError(f"must be at least {lo}")
    if hi is not None and value > hi:
        raise FieldValueError(f"must be at most {hi}")
    xlo, xhi = kw("exclusiveMinimum"), kw("exclusiveMaximum")
    if xlo is not None and value <= xlo:
        raise FieldValueError(f"must be greater than {xlo}")
    if xhi is not None and value >= xhi:
        raise FieldValueError(f"must be less than {xhi}")
    if limits and not (limits[0] <= value <= limits[1]):
        raise FieldValueError(f"is out of range ({limits[0]}..{limits[1]})")
    return value


# -- text ---------------------------------------------------------------------------------------


def _text_schema(spec: FieldSpec) -> dict:
    out = {"type": "string", "maxLength": spec.kw("maxLength", DEFAULT_TEXT_LENGTH)}
    out.update(copy_keywords(spec, ("minLength", "pattern", "format")))
    if out.get("format") == "url":
        out["format"] = "uri"
    return out


TEXT = FieldType(
    name="text",
    label="Text",
    doc="A single line of text, at most maxLength (default 255) characters. "
    "format: email, phone or uri/url.",
    value_schema=_text_schema,
    columns=lambda s: [(s.name, sa.String(s.kw("maxLength", DEFAULT_TEXT_LENGTH)), {})],
    coerce=lambda s, v, lenient=False: _check_string(
        s, str(v) if lenient and isinstance(v, int | float | Decimal) else v, DEFAULT_TEXT_LENGTH
    ),
    dump=lambda s, v: v,
    operators=TEXT_OPS,
    keywords=("maxLength", "minLength", "pattern", "format"),
)

LONGTEXT = FieldType(
    name="longtext",
    label="Long text",
    doc="Multi-line text without a practical length limit (maxLength optional).",
    value_schema=lambda s: {
        "type": "string",
        **copy_keywords(s, ("maxLength", "minLength", "pattern")),
    },
    columns=lambda s: [(s.name, sa.Text(), {})],
    coerce=lambda s, v, lenient=False: _check_string(
        s, str(v) if lenient and v is not None and not isinstance(v, str) else v, None
    ),
    dump=lambda s, v: v,
    operators=TEXT_OPS,
    keywords=("maxLength", "minLength", "pattern"),
    sortable=True,
)


# -- numbers ------------------------------------------------------------------------------------


def _coerce_int(limits: tuple[int, int]):
    def coerce(spec: FieldSpec, value: Any, lenient: bool = False) -> int:
        if lenient and isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                raise FieldValueError(f"{value!r} is not a whole number") from None
            if not number.is_finite() or number != number.to_integral_value():
                raise FieldValueError(f"{value!r} is not a whole number")
            value = int(number)
        if lenient and isinstance(value, bool):
            value = int(value)
        if lenient and isinstance(value, float | Decimal) and value == int(value):
            value = int(value)
        if not (isinstance(value, int) and not isinstance(value, bool)):
            raise FieldValueError(f"expected a whole number, got {_describe(value)}")
        return _check_range(spec, value, limits)

    return coerce


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) < 40 else "a string"
    return type(value).__name__ if value is not None else "null"


def _int_schema(limits):
    def schema(spec: FieldSpec) -> dict:
        out = {"type": "integer"}
        out.update(
            copy_keywords(spec, ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
        )
        out.setdefault("minimum", limits[0])
        out.setdefault("maximum", limits[1])
        return out

    return schema


NUMERIC_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")

INTEGER = FieldType(
    name="integer",
    label="Whole number",
    doc="A 32-bit whole number; minimum/maximum optional.",
    value_schema=_int_schema(INT32),
    columns=lambda s: [(s.name, sa.Integer(), {})],
    coerce=_coerce_int(INT32),
    dump=lambda s, v: v,
    operators=ORDERED_OPS,
    keywords=NUMERIC_KEYWORDS,
)

BIGINT = FieldType(
    name="bigint",
    label="Big whole number",
    doc="A 64-bit whole number.",
    value_schema=_int_schema(INT64),
    columns=lambda s: [(s.name, sa.BigInteger(), {})],
    coerce=_coerce_int(INT64),
    dump=lambda s, v: v,
    operators=ORDERED_OPS,
    keywords=NUMERIC_KEYWORDS,
)


def to_decimal(value: Any, lenient: bool, precision: int, scale: int) -> Decimal:
    if isinstance(value, bool):
        raise FieldValueError("expected a number, got bool")
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise FieldValueError(f"{value!r} is not a number") from None
    elif isinstance(value, int | Decimal):
        d = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FieldValueError("must be a finite number")
        d = Decimal(repr(value))
    else:
        raise FieldValueError(f"expected a number, got {_describe(value)}")
    if not d.is_finite():
        raise FieldValueError("must be a finite number")
    if d and d.adjusted() >= precision - scale:
        raise FieldValueError(f"has more than {precision - scale} digits before the decimal point")
    d = d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    integer_digits = len(d.as_tuple().digits) - scale if d else 0
    if integer_digits > precision - scale:
        raise FieldValueError(f"has more than {precision - scale} digits before the decimal point")
    return d


def _decimal_ps(spec: FieldSpec) -> tuple[int, int]:
    return spec.opt("precision", 18), spec.opt("scale", 2)


def _coerce_decimal(spec: FieldSpec, value: Any, lenient: bool = False) -> Decimal:
    p, s = _decimal_ps(spec)
    return _check_range(spec, to_decimal(value, lenient, p, s))


def _dump_decimal(spec: FieldSpec, value: Any) -> str | None:
    if value is None:
        return None
    _, s = _decimal_ps(spec)
    return str(Decimal(value).quantize(Decimal(1).scaleb(-s)))


DECIMAL_VALUE = {"type": ["string", "number"], "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}

DECIMAL = FieldType(
    name="decimal",
    label="Decimal",
    doc="An exact decimal number with precision (total digits, default 18) and scale "
    "(digits after the point, default 2). Read back as a string to keep every digit; "
    "written as a number or a numeric string.",
    value_schema=lambda s: {**DECIMAL_VALUE, **copy_keywords(s, NUMERIC_KEYWORDS)},
    columns=lambda s: [(s.name, sa.Numeric(*_decimal_ps(s)), {})],
    coerce=_coerce_decimal,
    dump=_dump_decimal,
    operators=ORDERED_OPS,
    params={
        "precision": {"type": "integer", "minimum": 1, "maximum": 38},
        "scale": {"type": "integer", "minimum": 0, "maximum": 18},
    },
    keywords=NUMERIC_KEYWORDS,
)


def _coerce_float(spec: FieldSpec, value: Any, lenient: bool = False) -> float:
    if lenient and isinstance(value, str | Decimal):
        try:
            value = float(value)
        except ValueError:
            raise FieldValueError(f"{value!r} is not a number") from None
    if not (isinstance(value, int | float) and not isinstance(value, bool)):
        raise FieldValueError(f"expected a number, got {_describe(value)}")
    if not math.isfinite(value):
        raise FieldValueError("must be a finite number")
    return _check_range(spec, float(value))


FLOAT = FieldType(
    name="float",
    label="Floating-point number",
    doc="A double-precision floating-point number.",
    value_schema=lambda s: {"type": "number", **copy_keywords(s, NUMERIC_KEYWORDS)},
    columns=lambda s: [(s.name, sa.Double(), {})],
    coerce=_coerce_float,
    dump=lambda s, v: v,
    operators=ORDERED_OPS,
    keywords=NUMERIC_KEYWORDS,
)


def _coerce_money(spec: FieldSpec, value: Any, lenient: bool = False) -> tuple[Decimal, str]:
    default_currency = spec.opt("defaultCurrency")
    if isinstance(value, dict):
        unknown = set(value) - {"amount", "currency"}
        if unknown:
            raise FieldValueError(f"unknown key(s) {sorted(unknown)}; expected amount and currency")
        amount, currency = value.get("amount"), value.get("currency", default_currency)
    elif lenient or default_currency:
        amount, currency = value, default_currency
    else:
        raise FieldValueError('expected {"amount": ..., "currency": "EUR"}')
    if amount is None:
        raise FieldValueError("amount is missing")
    if not (isinstance(currency, str) and bool(CURRENCY.match(currency))):
        raise FieldValueError(f"currency {currency!r} is not an ISO 4217 code such as EUR")
    allowed = spec.opt("currencies")
    if allowed and currency not in allowed:
        raise FieldValueError(f"currency {currency} is not one of {', '.join(allowed)}")
    d = to_decimal(amount, lenient, 18, spec.opt("scale", 2))
    return _check_range(spec, d), currency


def _dump_money(spec: FieldSpec, value: Any) -> dict | None:
    amount, currency = value
    if amount is None:
        return None
    scale = spec.opt("scale", 2)
    return {
        "amount": str(Decimal(amount).quantize(Decimal(1).scaleb(-scale))),
        "currency": currency,
    }


MONEY = FieldType(
    name="money",
    label="Money",
    doc="An amount with its ISO 4217 currency, stored as two columns <name>_amount and "
    '<name>_currency. JSON: {"amount": "12.50", "currency": "EUR"}.',
    value_schema=lambda s: {
        "type": "object",
        "properties": {
            "amount": DECIMAL_VALUE,
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}
            | ({"enum": list(s.opt("currencies"))} if s.opt("currencies") else {}),
        },
        "required": ["amount", "currency"],
        "additionalProperties": False,
    },
    columns=lambda s: [
        (f"{s.name}_amount", sa.Numeric(18, s.opt("scale", 2)), {}),
        (f"{s.name}_currency", sa.String(3), {}),
    ],
    coerce=_coerce_money,
    dump=_dump_money,
    operators=ORDERED_OPS,
    params={
        "scale": {"type": "integer", "minimum": 0, "maximum": 8},
        "defaultCurrency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "currencies": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "uniqueItems": True,
        },
    },
    keywords=NUMERIC_KEYWORDS,
)


# -- booleans, dates ----------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "on", "x"}
_FALSE = {"false", "no", "n", "0", "off", ""}


def _coerce_bool(spec: FieldSpec, value: Any, lenient: bool = False) -> bool:
    if lenient and isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    if lenient and isinstance(value, int) and value in (0, 1):
        return bool(value)
    if not isinstance(value, bool):
        raise FieldValueError(f"expected true or false, got {_describe(value)}")
    return value


BOOLEAN = FieldType(
    name="boolean",
    label="Yes/No",
    doc="true or false.",
    value_schema=lambda s: {"type": "boolean"},
    columns=lambda s: [(s.name, sa.Boolean(create_constraint=False), {})],
    coerce=_coerce_bool,
    dump=lambda s, v: None if v is None else bool(v),
    operators=("eq", "neq", "is"),
)


def _coerce_date(spec: FieldSpec, value: Any, lenient: bool = False) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise FieldValueError(f"expected a date (YYYY-MM-DD), got {_describe(value)}")
    text = value.strip()
    if lenient and len(text) > 10 and text[10] in "T ":
        text = text[:10]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FieldValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _dump_date(spec: FieldSpec, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value[:10]
    return value.isoformat()


DATE = FieldType(
    name="date",
    label="Date",
    doc="A calendar date, ISO 8601 (YYYY-MM-DD).",
    value_schema=lambda s: {"type": "string", "format": "date"},
    columns=lambda s: [(s.name, sa.Date(), {})],
    coerce=_coerce_date,
    dump=_dump_date,
    operators=ORDERED_OPS,
)


def _coerce_datetime(spec: FieldSpec, value: Any, lenient: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date) and lenient:
        parsed = dt.datetime(value.year, value.month, value.day)
    else:
        if not isinstance(value, str):
            raise FieldValueError(f"expected a date-time (ISO 8601), got {_describe(value)}")
        text = value.strip()
        if lenient and len(text) == 10:
            text += "T00:00:00"
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise FieldValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        return parsed  # taken as UTC, documented
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def _dump_datetime(spec: FieldSpec, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


DATETIME = FieldType(
    name="datetime",
    label="Date and time",
    doc="An instant, ISO 8601 with offset; stored in UTC and returned with a Z suffix. "
    "A value without an offset is taken as UTC.",
    value_schema=lambda s: {"type": "string", "format": "date-time"},
    columns=lambda s: [(s.name, sa.DateTime(timezone=False), {})],
    coerce=_coerce_datetime,
    dump=_dump_datetime,
    operators=ORDERED_OPS,
)


# -- choices ------------------------------------------------------------------------------------


def choice_values(spec: FieldSpec) -> list[str]:
    return [v for v in spec.kw("enum", ()) if v is not None]


def _coerce_choice(spec: FieldSpec, value: Any, lenient: bool = False) -> str:
    if value.__class__ is str and value in spec.schema.get("enum", ()):
        return value  # the common case, without building the list of values
    values = choice_values(spec)
    if lenient and isinstance(value, list):
        if len(value) != 1:
            raise FieldValueError(f"has {len(value)} values where one is expected")
        value = value[0]
    if lenient and isinstance(value, str) and value not in values:
        for opt in spec.opt("options", ()):
            if str(opt.get("label", "")).lower() == value.strip().lower():
                return opt["value"]
    if not isinstance(value, str):
        raise FieldValueError(f"expected one of {values}, got {_describe(value)}")
    if value not in values:
        raise FieldValueError(f"{value!r} is not one of {', '.join(values)}")
    return value


OPTION_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "value": {"type": "string", "minLength": 1, "maxLength": 100},
            "label": {"type": "string"},
            "color": {"type": "string"},
            "description": {"type": "string"},
        },
        "required": ["value"],
        "additionalProperties": False,
    },
}

CHOICE = FieldType(
    name="choice",
    label="Choice",
    doc="One value out of a list: the JSON Schema `enum` lists the values, `x-xrm.options` "
    "may add labels and colours, `x-xrm.optionSet` reuses a shared list.",
    value_schema=lambda s: {"type": "string", "enum": choice_values(s)},
    columns=lambda s: [(s.name, sa.String(100), {})],
    coerce=_coerce_choice,
    dump=lambda s, v: v,
    operators=("eq", "neq", "in", "is"),
    params={"options": OPTION_SCHEMA, "optionSet": {"type": "string"}},
    keywords=("enum",),
)


def _coerce_multichoice(spec: FieldSpec, value: Any, lenient: bool = False) -> list[str]:
    if lenient and isinstance(value, str):
        # An exact option value is one value (a choice converted to multi-choice); otherwise
        # text such as "a; b" from a CSV cell is split.
        if value in choice_values(spec):
            value = [value]
        else:
            value = [v.strip() for v in re.split(r"[;,]", value) if v.strip()]
    if not isinstance(value, list):
        raise FieldValueError(f"expected a list of values, got {_describe(value)}")
    out = []
    for item in value:
        v = _coerce_choice(spec, item, lenient)
        if v in out:
            raise FieldValueError(f"{v!r} is given twice")
        out.append(v)
    lo, hi = spec.kw("minItems"), spec.kw("maxItems")
    if not (lo is None or len(out) >= lo):
        raise FieldValueError(f"needs at least {lo} values")
    if not (hi is None or len(out) <= hi):
        raise FieldValueError(f"allows at most {hi} values")
    return out


MULTICHOICE = FieldType(
    name="multichoice",
    label="Multiple choice",
    doc="Any number of values out of a list (JSON array of unique strings).",
    value_schema=lambda s: {
        "type": "array",
        "items": {"type": "string", "enum": choice_values(s)},
        "uniqueItems": True,
        **copy_keywords(s, ("minItems", "maxItems")),
    },
    columns=lambda s: [(s.name, JSON_COLUMN, {})],
    coerce=_coerce_multichoice,
    dump=lambda s, v: list(v) if v is not None else None,
    operators=("contains", "is"),
    params={"options": OPTION_SCHEMA, "optionSet": {"type": "string"}},
    keywords=("enum", "minItems", "maxItems"),
    sortable=False,
)


# -- JSON, uuid, autonumber ---------------------------------------------------------------------


def _coerce_json(spec: FieldSpec, value: Any, lenient: bool = False) -> dict:
    if lenient and isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise FieldValueError("is not valid JSON") from None
    if not isinstance(value, dict):
        raise FieldValueError(f"expected a JSON object, got {_describe(value)}")
    return value


JSON_OBJECT = FieldType(
    name="json",
    label="JSON object",
    doc="A free-form JSON object.",
    value_schema=lambda s: {"type": "object"},
    columns=lambda s: [(s.name, JSON_COLUMN, {})],
    coerce=_coerce_json,
    dump=lambda s, v: v,
    operators=("is",),
    sortable=False,
)


def _coerce_uuid(spec: FieldSpec, value: Any, lenient: bool = False) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise FieldValueError(f"expected a UUID string, got {_describe(value)}")
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise FieldValueError(f"{value!r} is not a UUID") from None


UUID = FieldType(
    name="uuid",
    label="UUID",
    doc="A UUID; with x-xrm.generate true (the default) a new one is made when none is given.",
    value_schema=lambda s: {"type": "string", "format": "uuid"},
    columns=lambda s: [(s.name, sa.Uuid(as_uuid=True), {})],
    coerce=_coerce_uuid,
    dump=lambda s, v: None if v is None else str(v),
    operators=("eq", "neq", "in", "is"),
    params={"generate": {"type": "boolean"}},
)

AUTONUMBER_FORMAT = re.compile(r"\{SEQ(?::(\d+))?\}")


def _coerce_autonumber(spec: FieldSpec, value: Any, lenient: bool = False) -> str:
    if lenient and isinstance(value, str):
        return value
    raise FieldValueError("is numbered automatically and cannot be written")


AUTONUMBER = FieldType(
    name="autonumber",
    label="Autonumber",
    doc="A unique number made at creation from a format such as CASE-{YYYY}-{SEQ:5}: "
    "{YYYY} {YY} {MM} {DD} are the creation date, {SEQ:n} a counter zero-padded to n digits "
    "(the counter restarts when the text around it changes, e.g. each year).",
    value_schema=lambda s: {"type": "string", "readOnly": True},
    columns=lambda s: [(s.name, sa.String(100), {})],
    coerce=_coerce_autonumber,
    dump=lambda s, v: v,
    operators=TEXT_OPS,
    params={"format": {"type": "string", "pattern": r"\{SEQ(:[1-9][0-9]?)?\}", "maxLength": 60}},
    generated=True,
)

SCALAR_TYPES = (
    TEXT,
    LONGTEXT,
    INTEGER,
    BIGINT,
    DECIMAL,
    FLOAT,
    MONEY,
    BOOLEAN,
    DATE,
    DATETIME,
    CHOICE,
    MULTICHOICE,
    JSON_OBJECT,
    UUID,
    AUTONUMBER,
)
