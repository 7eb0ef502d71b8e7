"""The types the static checker reasons with, and how entity fields map onto them.

Field values reach CEL as follows (:mod:`.values` does the conversion, this module declares it):

=====================================  ==========================================================
field type                             CEL type
=====================================  ==========================================================
text, longtext, choice, uuid,          string (choice fields remember their options, so a
autonumber                             comparison with a value that is not an option is an error)
integer, bigint, reference             int
decimal, float                         double (exact decimals become doubles; results written
                                       back to a decimal field are rounded to its scale)
money                                  {amount: double, currency: string}
boolean                                bool
date, datetime                         timestamp (a date is midnight UTC of that day)
multichoice                            list(string)
manytomany                             list(int)
regarding                              {entity: string, id: int}
json                                   dyn (not checked)
=====================================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from xrm.metadata.model import EntityDefinition, FieldSpec


@dataclass(frozen=True)
class CelType:
    """A CEL type. ``object`` is a closed map with known fields (a record, a money value)."""

    kind: str
    args: tuple[CelType, ...] = ()
    fields: Mapping[str, CelType] = field(default_factory=lambda: MappingProxyType({}))
    #: What this value is, for messages: "sales.opportunity", "decimal field".
    label: str = ""
    #: The allowed string values of a choice field.
    options: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list({self.args[0]})"
        if self.kind == "map":
            return f"map({self.args[0]}, {self.args[1]})"
        if self.kind == "object":
            return self.label or "map"
        return self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    def elem(self) -> CelType:
        return self.args[0] if self.kind == "list" and self.args else DYN


def prim(kind: str) -> CelType:
    return CelType(kind)


INT, UINT, DOUBLE = prim("int"), prim("uint"), prim("double")
STRING, BOOL, BYTES, NULL = prim("string"), prim("bool"), prim("bytes"), prim("null")
TIMESTAMP, DURATION, DYN = prim("timestamp"), prim("duration"), prim("dyn")
NUMERIC = ("int", "uint", "double")


def list_of(t: CelType) -> CelType:
    return CelType("list", (t,))


def map_of(k: CelType, v: CelType) -> CelType:
    return CelType("map", (k, v))


def obj(label: str, **fields: CelType) -> CelType:
    return CelType("object", fields=MappingProxyType(fields), label=label)


MONEY = obj("money", amount=DOUBLE, currency=STRING)
REGARDING = obj("regarding", entity=STRING, id=INT)

_FIELD_TYPES = {
    "text": STRING,
    "longtext": STRING,
    "uuid": STRING,
    "autonumber": STRING,
    "integer": INT,
    "bigint": INT,
    "reference": INT,
    "decimal": DOUBLE,
    "float": DOUBLE,
    "money": MONEY,
    "boolean": BOOL,
    "date": TIMESTAMP,
    "datetime": TIMESTAMP,
    "multichoice": list_of(STRING),
    "manytomany": list_of(INT),
    "regarding": REGARDING,
    "json": DYN,
}

#: System columns every record carries (see ``xrm.metadata.names.SYSTEM_COLUMNS``).
SYSTEM_FIELDS = {
    "id": INT,
    "owner_id": INT,
    "created_by": INT,
    "updated_by": INT,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "row_version": INT,
}


def field_cel_type(spec: FieldSpec) -> CelType:
    """The CEL type of a field's values."""
    options = tuple(v for v in spec.kw("enum", ()) if isinstance(v, str))
    if spec.type == "choice":
        return CelType("string", label="choice field", options=options)
    if spec.type == "multichoice":
        return CelType("list", (CelType("string", options=options),), label="multichoice field")
    t = _FIELD_TYPES.get(spec.type, DYN)
    if t.kind == "object":
        return t
    return replace(t, label=f"{spec.type} field")


def record_type(entity: EntityDefinition) -> CelType:
    """The type of ``record``: the entity's fields plus the system columns."""
    fields = dict(SYSTEM_FIELDS)
    fields.update({f.name: field_cel_type(f) for f in entity.fields})
    return obj(entity.name, **fields)


USER = obj("user", id=INT, roles=list_of(STRING))


def standard_variables(entity: EntityDefinition) -> dict[str, CelType]:
    """The names every workflow and rule expression may use."""
    return {"record": record_type(entity), "user": USER, "now": TIMESTAMP, "today": TIMESTAMP}


def assignable(value: CelType, target: CelType) -> bool:
    """Can a result of type ``value`` be written to a field of type ``target``?"""
    if value.kind in ("dyn", "null") or target.kind == "dyn":
        return True
    if target.kind == "double":
        return value.kind in NUMERIC
    if target.kind == "int":
        return value.kind in ("int", "uint")
    if target.kind == "object" and target.label == "money":
        return value.kind in NUMERIC or value.kind in ("object", "map")
    if target.kind in ("list", "map", "object"):
        return value.kind == target.kind or (target.kind == "object" and value.kind == "map")
    return value.kind == target.kind
