"""Field checkers: each field's ``coerce`` compiled once, with its constraints bound.

A field type's ``coerce(spec, value, lenient)`` looks its constraints up in the field's schema
on every call (``maxLength``, ``format``, ``minimum``...), which is most of the cost of
validating a record when an import validates 100,000 of them. :func:`field_checker` builds,
once per compiled field, a function ``check(value, lenient)`` with the same contract:

- it **accepts** the common well-formed values itself (a short ASCII text, a number in range,
  an ISO date...), returning exactly what ``coerce`` returns for them;
- anything else - every value that is refused, and the rarer forms that are accepted (non-ASCII
  text, a date-time with an offset, a label instead of a choice value...) - goes to the field
  type's own ``coerce``, so the result and every error message are the type's, unchanged.

``tests/metadata/test_checkers.py`` holds every checker against its type's ``coerce`` (and the
JSON Schema of the record against both) over generated values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .fieldtypes.relations import MAX_ID
from .fieldtypes.scalars import DEFAULT_TEXT_LENGTH, EMAIL, INT32, INT64, PHONE
from .model import FieldSpec

#: ``check(value, lenient)`` -> the stored Python value; raises ``FieldValueError``.
Checker = Callable[[Any, bool], Any]

_BOOLEANS = {
    "true": True,
    "false": False,
    "True": True,
    "False": False,
    "TRUE": True,
    "FALSE": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
}


def field_checker(spec: FieldSpec, coerce: Callable[[FieldSpec, Any, bool], Any]) -> Checker:
    """The checker of a field of type ``spec.type`` whose generic conversion is ``coerce``."""

    def generic(value: Any, lenient: bool = False) -> Any:
        return coerce(spec, value, lenient)

    make = _FAST.get(spec.type)
    fast = make(spec, generic) if make is not None else None
    return fast or generic


# -- the fast paths, per type; each returns None when the field's options leave none ----------


def _text(spec: FieldSpec, generic: Checker, default_max: int | None) -> Checker | None:
    kw = spec.schema.get
    if kw("minLength") is not None or kw("pattern") is not None:
        return None
    most = kw("maxLength", default_max)
    most = most if most is not None else float("inf")
    fmt = kw("format")
    if fmt is None:
        match = None
    elif fmt == "email":
        match = EMAIL.match
    elif fmt == "phone":
        match = PHONE.match
    else:
        return None

    def check(value: Any, lenient: bool = False) -> Any:
        if (
            value.__class__ is str
            and len(value) <= most
            and value.isascii()
            and "\x00" not in value
            and (match is None or not value or match(value))
        ):
            return value
        return generic(value, lenient)

    return check


def _integer(limits: tuple[int, int]):
    def make(spec: FieldSpec, generic: Checker) -> Checker | None:
        kw = spec.schema.get
        if kw("exclusiveMinimum") is not None or kw("exclusiveMaximum") is not None:
            return None
        lo, hi = kw("minimum"), kw("maximum")
        lo = limits[0] if lo is None else max(lo, limits[0])
        hi = limits[1] if hi is None else min(hi, limits[1])

        def check(value: Any, lenient: bool = False) -> Any:
            cls = value.__class__
            if cls is int:
                if lo <= value <= hi:
                    return value
            elif cls is str and lenient and value.isdigit() and value.isascii():
                number = int(value)
                if lo <= number <= hi:
                    return number
            return generic(value, lenient)

        return check

    return make


def _float(spec: FieldSpec, generic: Checker) -> Checker | None:
    kw = spec.schema.get
    if kw("exclusiveMinimum") is not None or kw("exclusiveMaximum") is not None:
        return None
    lo, hi = kw("minimum"), kw("maximum")
    lo = float("-inf") if lo is None else lo
    hi = float("inf") if hi is None else hi

    def check(value: Any, lenient: bool = False) -> Any:
        cls = value.__class__
        if cls is float or cls is int or (cls is str and lenient):
            try:
                number = float(value)
            except ValueError:
                return generic(value, lenient)
            # NaN and the infinities fail the comparison below and go to the type's message.
            if lo <= number <= hi and number - number == 0:
                return number
        return generic(value, lenient)

    return check


def _boolean(spec: FieldSpec, generic: Checker) -> Checker:
    def check(value: Any, lenient: bool = False) -> Any:
        if value is True or value is False:
            return value
        if lenient and value.__class__ is str:
            found = _BOOLEANS.get(value)
            if found is not None:
                return found
        return generic(value, lenient)

    return check


def _date(spec: FieldSpec, generic: Checker) -> Checker:
    parse = dt.date.fromisoformat

    def check(value: Any, lenient: bool = False) -> Any:
        if value.__class__ is str and len(value) == 10:
            try:
                return parse(value)
            except ValueError:
                pass
        return generic(value, lenient)

    return check


def _datetime(spec: FieldSpec, generic: Checker) -> Checker:
    parse = dt.datetime.fromisoformat

    def check(value: Any, lenient: bool = False) -> Any:
        # Without an offset, as the type takes it (UTC); an offset or spaces around: the type.
        if value.__class__ is str and len(value) >= 19 and value[-1].isdigit():
            try:
                parsed = parse(value)
            except ValueError:
                return generic(value, lenient)
            if parsed.tzinfo is None and not value[0].isspace():
                return parsed
        return generic(value, lenient)

    return check


def _choice(spec: FieldSpec, generic: Checker) -> Checker:
    allowed = frozenset(v for v in spec.schema.get("enum", ()) if v.__class__ is str)

    def check(value: Any, lenient: bool = False) -> Any:
        if value.__class__ is str and value in allowed:
            return value
        return generic(value, lenient)

    return check


def _reference(spec: FieldSpec, generic: Checker) -> Checker:
    def check(value: Any, lenient: bool = False) -> Any:
        cls = value.__class__
        if cls is int:
            if 1 <= value <= MAX_ID:
                return value
        elif cls is str and lenient and value.isdigit() and value.isascii():
            number = int(value)
            if 1 <= number <= MAX_ID:
                return number
        return generic(value, lenient)

    return check


_FAST: dict[str, Callable[[FieldSpec, Checker], Checker | None]] = {
    "text": lambda spec, generic: _text(spec, generic, DEFAULT_TEXT_LENGTH),
    "longtext": lambda spec, generic: _text(spec, generic, None),
    "integer": _integer(INT32),
    "bigint": _integer(INT64),
    "float": _float,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
    "choice": _choice,
    "reference": _reference,
}
