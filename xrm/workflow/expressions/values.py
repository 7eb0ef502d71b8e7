"""Field values into CEL values, and CEL results back into field values.

Records reach the engine either as the record service returns them (JSON: decimals as strings,
dates as ``YYYY-MM-DD``, datetimes as ISO 8601 with ``Z``) or as coerced Python values
(``Decimal``, ``date``, naive UTC ``datetime``); both are accepted. The mapping is declared in
:mod:`.types`: decimals become doubles, dates and datetimes become UTC timestamps (a date is
midnight UTC), money becomes ``{amount, currency}``. Results go back as JSON values the record
service accepts, rounded to a decimal field's scale (half up).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from xrm.metadata.model import EntityDefinition, FieldSpec

from .types import SYSTEM_FIELDS

_NUMBER_TYPES = ("decimal", "float")
_INT_TYPES = ("integer", "bigint", "reference")


class ResultError(ValueError):
    """A CEL result that does not fit the field it is written to."""


def _to_timestamp(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return _to_timestamp(parsed)
    return None


def _to_double(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(Decimal(value.strip()))
        except InvalidOperation:
            return None
    return None


def cel_value(ftype: str, value: Any) -> Any:
    """One field value (JSON or coerced Python) as CEL sees it; None stays None (CEL null).

    A value that does not fit its field becomes null: validating it is the record service's
    job, and an expression must not crash on bad input before that validation reports it."""
    if value is None:
        return None
    if ftype in _NUMBER_TYPES:
        return _to_double(value)
    if ftype in _INT_TYPES:
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        return value if isinstance(value, int) and -(2**63) <= value < 2**63 else None
    if ftype in ("date", "datetime", "timestamp"):
        return _to_timestamp(value)
    if ftype == "money":
        if isinstance(value, Mapping):
            amount, currency = value.get("amount"), value.get("currency")
        elif isinstance(value, tuple | list) and len(value) == 2:
            amount, currency = value
        else:
            return None
        if amount is None:
            return None
        return {"amount": _to_double(amount), "currency": currency}
    if ftype in ("multichoice", "manytomany"):
        return list(value) if isinstance(value, list | tuple) else None
    if ftype == "regarding":
        if isinstance(value, tuple) and len(value) == 2:
            return None if value[0] is None else {"entity": value[0], "id": value[1]}
        return dict(value) if isinstance(value, Mapping) else None
    if ftype == "uuid":
        return str(value)
    if ftype == "json":
        return _plain(value)
    return value


def _plain(value: Any) -> Any:
    """JSON content with Decimals and dates made CEL-friendly."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return _to_timestamp(value)
    return value


_SYSTEM_TYPES = {
    name: "timestamp" if t.kind == "timestamp" else "integer" for name, t in SYSTEM_FIELDS.items()
}


def record_value(entity: EntityDefinition, record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``record`` variable: every field of the entity (null when absent) and the system
    columns, converted for CEL. Fields the entity does not have are left out."""
    return {name: cel_value(ftype, record.get(name)) for name, ftype in field_types(entity).items()}


def field_types(entity: EntityDefinition) -> Mapping[str, str]:
    """Name -> type of every field of ``record`` (system columns first), worked out once per
    (immutable) entity definition and kept on it."""
    try:
        return entity.__dict__["_xrm_cel_types"]
    except KeyError:
        types = dict(_SYSTEM_TYPES)
        for f in entity.fields:
            types[f.name] = f.type
        # A frozen dataclass: the memo goes in its __dict__ directly, as cached_property does.
        entity.__dict__["_xrm_cel_types"] = types
        return types


class RecordValue(Mapping):
    """The ``record`` variable converted field by field when first read: an expression reads
    a few fields of a record, and converting every one (timestamps above all) cost more than
    evaluating it. Reads as :func:`record_value` would give it (same keys, same values)."""

    __slots__ = ("_done", "_source", "_types")

    def __init__(
        self, types: Mapping[str, str], source: Mapping[str, Any], done: dict | None = None
    ):
        self._types = types
        self._source = source
        self._done = {} if done is None else done

    @classmethod
    def of(cls, entity: EntityDefinition, record: Mapping[str, Any]) -> RecordValue:
        # A copy: the caller may go on changing its record (rules do, field by field).
        return cls(field_types(entity), dict(record))

    def __getitem__(self, name: str) -> Any:
        try:
            return self._done[name]
        except KeyError:
            ftype = self._types[name]  # a name that is no field stays a KeyError
            value = self._done[name] = cel_value(ftype, self._source.get(name))
            return value

    def __iter__(self):
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def whole(self) -> dict[str, Any]:
        return {name: self[name] for name in self._types}

    def only(self, names) -> dict[str, Any]:
        """The fields ``names`` that the record has (others are left out, as in the whole)."""
        types = self._types
        return {name: self[name] for name in names if name in types}

    def changed(self, changes: Mapping[str, Any]) -> RecordValue:
        """This record with ``changes`` (field -> new value) applied; the fields converted
        already and not changed are kept."""
        done = {k: v for k, v in self._done.items() if k not in changes}
        return RecordValue(self._types, {**self._source, **changes}, done)


def changed_record_value(
    entity: EntityDefinition, value: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`record_value` of a record whose ``record_value`` is ``value``, with ``changes``
    (field -> new value) applied: only the changed fields are converted again."""
    out = dict(value)
    for name, new in changes.items():
        system = _SYSTEM_TYPES.get(name)
        if system is not None:
            out[name] = cel_value(system, new)
        elif (f := entity.field(name)) is not None:
            out[name] = cel_value(f.type, new)
    return out


def _decimal_text(spec: FieldSpec, number: float) -> str:
    if not math.isfinite(number):
        raise ResultError(f"{number} is not a finite number")
    scale = spec.opt("scale", 2)
    precision = spec.opt("precision", 18) if spec.type == "decimal" else 18
    value = Decimal(repr(number))
    if abs(value) >= Decimal(10) ** (precision - scale):
        raise ResultError(f"{number} has more than {precision - scale} digits before the point")
    return str(value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP))


def field_value(spec: FieldSpec, result: Any, current: Any = None) -> Any:
    """A CEL result as the JSON value to write to ``spec``; ``current`` is the field's present
    value (a money result given as a bare number keeps the present currency)."""
    if result is None:
        return None
    ftype = spec.type
    if isinstance(result, dt.timedelta):
        raise ResultError("a duration cannot be stored in a field; add it to a timestamp")
    if ftype == "decimal":
        return _decimal_text(spec, _number(result))
    if ftype == "float":
        return _number(result)
    if ftype in _INT_TYPES:
        if isinstance(result, float) and result.is_integer():
            return int(result)
        if not isinstance(result, int) or isinstance(result, bool):
            raise ResultError(f"expected a whole number, got {result!r}")
        return result
    if ftype == "money":
        return _money(spec, result, current)
    if ftype in ("date", "datetime"):
        ts = _to_timestamp(result)
        if ts is None:
            raise ResultError(f"expected a timestamp, got {result!r}")
        if ftype == "date":
            return ts.date().isoformat()
        return ts.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return result


def _number(result: Any) -> float:
    if isinstance(result, bool) or not isinstance(result, int | float):
        raise ResultError(f"expected a number, got {result!r}")
    return float(result)


def _money(spec: FieldSpec, result: Any, current: Any) -> dict[str, str]:
    if isinstance(result, Mapping):
        amount, currency = result.get("amount"), result.get("currency")
    else:
        amount = result
        present = cel_value("money", current)
        currency = present["currency"] if present else spec.opt("defaultCurrency")
    if not currency:
        raise ResultError("a money value needs a currency; return {'amount': ..., 'currency': ...}")
    return {"amount": _decimal_text(spec, _number(amount)), "currency": currency}
