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
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter, itemgetter, methodcaller
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


def _integer_bounds(spec: FieldSpec, limits: tuple[int, int]) -> tuple[int, int] | None:
    """The inclusive range an integer field takes (its minimum and maximum within the column
    type's ``limits``), or None when exclusive bounds leave it to the generic check."""
    kw = spec.schema.get
    if kw("exclusiveMinimum") is not None or kw("exclusiveMaximum") is not None:
        return None
    lo, hi = kw("minimum"), kw("maximum")
    lo = limits[0] if lo is None else max(lo, limits[0])
    hi = limits[1] if hi is None else min(hi, limits[1])
    return lo, hi


def _integer(limits: tuple[int, int]):
    def make(spec: FieldSpec, generic: Checker) -> Checker | None:
        bounds = _integer_bounds(spec, limits)
        if bounds is None:
            return None
        lo, hi = bounds

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


# -- whole columns --------------------------------------------------------------------------------
#
# An import or a bulk create checks the same field of thousands of records: a column checker
# takes the field's values of a whole batch and tests the common forms with C loops over the
# column (``map``, ``set``, ``min``/``max``, one ``join``) instead of a Python call per value.
# When every value of the column passes, the converted column is what the field's checker gives
# for each value; when any does not, each value goes to the field's checker (and from there, as
# above, to the type's own ``coerce``).

#: ``check_column(values, lenient)`` -> (converted values, positions of the values refused).
ColumnChecker = Callable[[list, bool], tuple[list, list[int]]]


def column_checker(spec: FieldSpec, check: Checker) -> ColumnChecker:
    """The column checker of a field whose value checker is ``check`` (:func:`field_checker`).
    A refused value's place in the result holds None and its position is in the second list;
    the refusal itself (its message) is the value checker's to give, record by record."""
    make = _COLUMN_FAST.get(spec.type)
    fast = make(spec) if make is not None else None

    def check_column(values: list, lenient: bool = False) -> tuple[list, list[int]]:
        if fast is not None and values:
            out = fast(values, lenient)
            if out is not None:
                return out, []
        out, refused = [], []
        append = out.append
        for n, value in enumerate(values):
            try:
                append(check(value, lenient))
            except Exception:  # the record is checked alone, which says what
                append(None)
                refused.append(n)
        return out, refused

    return check_column


def _only(values: list, kind: type) -> bool:
    return set(map(type, values)) == {kind}


def _text_column(spec: FieldSpec, default_max: int | None):
    kw = spec.schema.get
    if kw("minLength") is not None or kw("pattern") is not None:
        return None
    most = kw("maxLength", default_max)
    fmt = kw("format")
    match = {None: None, "email": EMAIL.match, "phone": PHONE.match}.get(fmt, False)
    if match is False:
        return None

    def check(values: list, lenient: bool) -> list | None:
        if not _only(values, str):
            return None
        joined = "".join(values)
        if not joined.isascii() or "\x00" in joined:
            return None
        if most is not None and max(map(len, values)) > most:
            return None
        # (An empty text passes a format: the single checker's ``not value or match``.)
        if match is not None and ("" in values or not all(map(match, values))):
            return None
        return values

    return check


def _integer_column(limits: tuple[int, int]):
    def make(spec: FieldSpec):
        bounds = _integer_bounds(spec, limits)
        return None if bounds is None else _whole_numbers(*bounds)

    return make


def _whole_numbers(lo: int, hi: int):
    def check(values: list, lenient: bool) -> list | None:
        kinds = set(map(type, values))
        if kinds == {int}:
            numbers = values
        elif kinds == {str} and lenient:
            # As the single checker: ASCII digits only (int() would take " 5", "+5", "1_0").
            if not all(map(str.isdigit, values)) or not "".join(values).isascii():
                return None
            try:
                numbers = list(map(int, values))
            except ValueError:  # past int()'s digit limit: the single checker's turn
                return None
        else:
            return None
        if min(numbers) < lo or max(numbers) > hi:
            return None
        return numbers

    return check


def _float_column(spec: FieldSpec):
    kw = spec.schema.get
    if kw("exclusiveMinimum") is not None or kw("exclusiveMaximum") is not None:
        return None
    lo, hi = kw("minimum"), kw("maximum")
    lo = float("-inf") if lo is None else lo
    hi = float("inf") if hi is None else hi

    def check(values: list, lenient: bool) -> list | None:
        kinds = set(map(type, values))
        if not (kinds <= {float, int} or (kinds == {str} and lenient)):
            return None
        try:
            numbers = list(map(float, values))
        except (ValueError, OverflowError):
            return None
        if not all(map(math.isfinite, numbers)) or min(numbers) < lo or max(numbers) > hi:
            return None
        return numbers

    return check


def _boolean_column(spec: FieldSpec):
    get = _BOOLEANS.get

    def check(values: list, lenient: bool) -> list | None:
        kinds = set(map(type, values))
        if kinds == {bool}:
            return values
        if kinds == {str} and lenient:
            found = list(map(get, values))
            return None if None in found else found
        return None

    return check


def _date_column(spec: FieldSpec):
    parse = dt.date.fromisoformat

    def check(values: list, lenient: bool) -> list | None:
        if not _only(values, str) or set(map(len, values)) != {10}:
            return None
        try:
            return list(map(parse, values))
        except ValueError:
            return None

    return check


def _datetime_column(spec: FieldSpec):
    parse = dt.datetime.fromisoformat
    first, last = itemgetter(0), itemgetter(-1)

    def check(values: list, lenient: bool) -> list | None:
        # As the single checker: no offset (UTC), no spaces around.
        if not _only(values, str) or min(map(len, values)) < 19:
            return None
        if not all(map(str.isdigit, map(last, values))) or any(
            map(str.isspace, map(first, values))
        ):
            return None
        try:
            parsed = list(map(parse, values))
        except ValueError:
            return None
        if any(map(_tzinfo, parsed)):
            return None
        return parsed

    return check


def _choice_column(spec: FieldSpec):
    allowed = frozenset(v for v in spec.schema.get("enum", ()) if v.__class__ is str)

    def check(values: list, lenient: bool) -> list | None:
        if not _only(values, str) or not allowed.issuperset(values):
            return None
        return values

    return check


_tzinfo = attrgetter("tzinfo")

_COLUMN_FAST: dict[str, Callable[[FieldSpec], Callable[[list, bool], list | None] | None]] = {
    "text": lambda spec: _text_column(spec, DEFAULT_TEXT_LENGTH),
    "longtext": lambda spec: _text_column(spec, None),
    "integer": _integer_column(INT32),
    "bigint": _integer_column(INT64),
    "float": _float_column,
    "boolean": _boolean_column,
    "date": _date_column,
    "datetime": _datetime_column,
    "choice": _choice_column,
    "reference": lambda spec: _whole_numbers(1, MAX_ID),
}


def validate_columns(ce: Any, rows: Sequence[Mapping[str, Any]], lenient: bool) -> list:
    """What ``ce.validate(row, lenient=lenient)`` gives each row of a batch without problems
    (field -> stored value), checked column by column (:func:`column_checker`); None for a row
    with a problem - or with anything else than its writable fields (a system field, an unknown
    one): the caller validates that row alone, which gives its problems, record by record."""
    writable, required = _columns_of(ce)
    count = len(rows)
    bad = [False] * count
    present = set().union(*rows)
    names, columns = [], []
    for name in sorted(present, key=_position(ce)):
        found = writable.get(name)
        if found is None:
            for n, row in enumerate(rows):
                if name in row:
                    bad[n] = True
            continue
        spec, association, check_column = found
        # The column, aligned with the rows (_ABSENT where a row does not give the field).
        column = list(map(methodcaller("get", name, _ABSENT), rows))
        where = None
        if _ABSENT in column or None in column or (association and [] in column):
            empty = [] if association else None
            where = []
            for n, value in enumerate(column):
                if value is _ABSENT:
                    continue
                if value is None or (association and value == []):
                    column[n] = empty
                    bad[n] = bad[n] or spec.required
                else:
                    where.append(n)
            given = [column[n] for n in where]
        else:
            given = column
        converted, refused = check_column(given, lenient)
        if where is None:
            column = converted
            for n in refused:
                bad[n] = True
        else:
            for n, value in zip(where, converted, strict=True):
                column[n] = value
            for i in refused:
                bad[where[i]] = True
        names.append(name)
        columns.append(column)
    for name in required:
        for n, row in enumerate(rows):
            if name not in row:
                bad[n] = True
    if not columns:
        return [None if b else {} for b in bad]
    out: list[dict | None] = []
    append = out.append
    for values, refused_row in zip(zip(*columns, strict=True), bad, strict=True):
        if refused_row:
            append(None)
        elif _ABSENT in values:
            append({k: v for k, v in zip(names, values, strict=True) if v is not _ABSENT})
        else:
            append(dict(zip(names, values, strict=True)))
    return out


#: A field a row does not give.
_ABSENT = object()


#: compiled entity -> (field -> (spec, association, column checker), required input fields)
_COLUMNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _columns_of(ce: Any) -> tuple[dict[str, tuple], tuple[str, ...]]:
    found = _COLUMNS.get(ce)
    if found is None:
        writable = {
            f.name: (
                f.spec,
                f.type.association,
                column_checker(f.spec, field_checker(f.spec, f.type.coerce)),
            )
            for f in ce.fields.values()
            if not (f.type.generated or f.spec.readonly)
        }
        required = tuple(
            f.name
            for f in ce.fields.values()
            if f.spec.required and not f.type.generated and not f.spec.has_default
        )
        found = _COLUMNS[ce] = (writable, required)
    return found


def _position(ce: Any) -> Callable[[str], tuple[int, str]]:
    order = {name: n for n, name in enumerate(ce.fields)}
    return lambda name: (order.get(name, len(order)), name)
