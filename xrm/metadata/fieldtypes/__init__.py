"""The field types of the platform, each declared once as data (see :mod:`.base`)."""

from __future__ import annotations

from types import MappingProxyType

from .base import FieldType, FieldValueError, nullable
from .relations import ON_DELETE, RELATION_TYPES, SQL_ON_DELETE
from .scalars import SCALAR_TYPES

FIELD_TYPES: MappingProxyType[str, FieldType] = MappingProxyType(
    {t.name: t for t in (*SCALAR_TYPES, *RELATION_TYPES)}
)

#: Type changes that convert data, and how risky each is. ``safe``: every value converts.
#: ``checked``: values are converted one by one and the rows that do not convert are counted
#: before anything changes. A pair missing here is refused.
_TEXTUAL = ("text", "longtext")
_NUMERIC = ("integer", "bigint", "decimal", "float")
CONVERSIONS: MappingProxyType[tuple[str, str], str] = MappingProxyType(
    {
        ("text", "longtext"): "safe",
        ("longtext", "text"): "checked",
        ("integer", "bigint"): "safe",
        ("integer", "decimal"): "checked",
        ("integer", "float"): "safe",
        ("bigint", "integer"): "checked",
        ("bigint", "decimal"): "checked",
        ("bigint", "float"): "checked",
        ("decimal", "float"): "safe",
        ("decimal", "integer"): "checked",
        ("decimal", "bigint"): "checked",
        ("float", "decimal"): "checked",
        ("float", "integer"): "checked",
        ("float", "bigint"): "checked",
        ("decimal", "money"): "checked",
        ("money", "decimal"): "checked",
        ("date", "datetime"): "safe",
        ("datetime", "date"): "checked",
        ("choice", "multichoice"): "safe",
        ("choice", "text"): "checked",
        ("choice", "longtext"): "safe",
        ("multichoice", "choice"): "checked",
        ("reference", "bigint"): "safe",
        ("bigint", "reference"): "checked",
        ("integer", "reference"): "checked",
        **{
            (src, dst): "checked"
            for src in _TEXTUAL
            for dst in (
                *_NUMERIC,
                "boolean",
                "date",
                "datetime",
                "choice",
                "multichoice",
                "uuid",
                "json",
            )
        },
        **{
            (src, "text"): "checked"
            for src in (*_NUMERIC, "boolean", "date", "datetime", "uuid", "autonumber")
        },
        **{
            (src, "longtext"): "safe"
            for src in (*_NUMERIC, "boolean", "date", "datetime", "uuid", "autonumber")
        },
        ("boolean", "integer"): "safe",
        ("integer", "boolean"): "checked",
    }
)


def field_type(name: str) -> FieldType:
    return FIELD_TYPES[name]


__all__ = [
    "CONVERSIONS",
    "FIELD_TYPES",
    "ON_DELETE",
    "SQL_ON_DELETE",
    "FieldType",
    "FieldValueError",
    "field_type",
    "nullable",
]
