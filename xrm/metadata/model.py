"""The normalized, immutable model of an entity definition.

A definition *document* is standard JSON Schema (draft 2020-12) plus ``x-xrm`` keywords. Once it
has passed the meta-schema, :func:`parse_definition` turns it into an :class:`EntityDefinition`:
plain frozen data that the planner, compiler and validators read. Nothing here touches a database.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .names import table_name

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
NO_DEFAULT = object()

#: JSON Schema validation keywords a property may carry (kept verbatim in ``FieldSpec.schema``).
CONSTRAINT_KEYWORDS = (
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "enum",
    "minItems",
    "maxItems",
)


def freeze(value: Any) -> Any:
    """Deep-freeze JSON data: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of :func:`freeze`: plain dicts and lists again."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def canonical_json(doc: Any) -> str:
    return json.dumps(thaw(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(doc: Any) -> str:
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FieldSpec:
    """One field of an entity, normalized from its property schema."""

    name: str
    type: str
    label: str
    description: str = ""
    required: bool = False
    default: Any = NO_DEFAULT
    unique: bool = False
    indexed: bool = False
    readonly: bool = False
    #: ``x-xrm.maintainedBy``: what keeps a system-maintained field up to date (plugin code
    #: writing as the platform); empty for a field users write.
    maintained_by: str = ""
    renamed_from: tuple[str, ...] = ()
    #: Standard JSON Schema constraint keywords of the property (maxLength, minimum, enum...).
    schema: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: The field type's own ``x-xrm`` parameters (target, onDelete, precision, options...).
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def opt(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    def kw(self, key: str, default: Any = None) -> Any:
        return self.schema.get(key, default)


@dataclass(frozen=True)
class IndexSpec:
    fields: tuple[str, ...]
    unique: bool = False
    name: str | None = None


@dataclass(frozen=True)
class EntityDefinition:
    """An entity type: its options and fields, in declaration order."""

    name: str
    label: str
    label_plural: str
    description: str = ""
    fields: tuple[FieldSpec, ...] = ()
    title_field: str | None = None
    search_fields: tuple[str, ...] = ()
    list_columns: tuple[str, ...] = ()
    ownership: str = "user"
    audit: bool = True
    layer: str = "admin"
    indexes: tuple[IndexSpec, ...] = ()
    #: The document this was parsed from (frozen), kept for export and hashing.
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    @property
    def table(self) -> str:
        return table_name(self.name)

    @property
    def field_map(self) -> Mapping[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def all_indexes(self) -> tuple[IndexSpec, ...]:
        """Declared indexes plus the ones implied by ``unique``/``index`` field flags."""
        implied = tuple(
            IndexSpec(fields=(f.name,), unique=f.unique)
            for f in self.fields
            if f.unique or f.indexed
        )
        return implied + self.indexes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.document)


def infer_field_type(prop: Mapping[str, Any]) -> str | None:
    """The field type implied by plain JSON Schema keywords, when ``x-xrm.type`` is absent."""
    jtype = prop.get("type")
    if isinstance(jtype, list | tuple):
        non_null = [t for t in jtype if t != "null"]
        jtype = non_null[0] if len(non_null) == 1 else None
    fmt = prop.get("format")
    if jtype == "string":
        if "enum" in prop:
            return "choice"
        return {"date": "date", "date-time": "datetime", "uuid": "uuid"}.get(fmt, "text")
    if jtype == "array":
        items = prop.get("items")
        if isinstance(items, Mapping) and "enum" in items:
            return "multichoice"
        return None
    return {"integer": "integer", "number": "float", "boolean": "boolean", "object": "json"}.get(
        jtype
    )


def parse_field(name: str, prop: Mapping[str, Any], required: bool) -> FieldSpec:
    xrm = prop.get("x-xrm", {}) or {}
    ftype = xrm.get("type") or infer_field_type(prop) or "text"
    options = {k: v for k, v in xrm.items() if k not in _FIELD_META_KEYS}
    schema = {k: prop[k] for k in CONSTRAINT_KEYWORDS if k in prop}
    if ftype == "multichoice" and isinstance(prop.get("items"), Mapping):
        items = prop["items"]
        if "enum" in items:
            schema["enum"] = items["enum"]
    renamed = xrm.get("renamedFrom", ())
    if isinstance(renamed, str):
        renamed = (renamed,)
    return FieldSpec(
        name=name,
        type=ftype,
        label=prop.get("title") or name.replace("_", " ").capitalize(),
        description=prop.get("description", ""),
        required=required,
        default=copy.deepcopy(prop["default"]) if "default" in prop else NO_DEFAULT,
        unique=bool(xrm.get("unique", False)),
        indexed=bool(xrm.get("index", False)),
        readonly=bool(prop.get("readOnly", False)),
        maintained_by=xrm.get("maintainedBy", ""),
        renamed_from=tuple(renamed),
        schema=freeze(schema),
        options=freeze(options),
    )


_FIELD_META_KEYS = frozenset({"type", "unique", "index", "renamedFrom", "maintainedBy"})


def parse_definition(doc: Mapping[str, Any], layer: str | None = None) -> EntityDefinition:
    """Build the normalized model from a document that already passed validation."""
    xrm = doc.get("x-xrm", {})
    name = xrm["name"]
    required = set(doc.get("required", ()))
    props = doc.get("properties", {})
    fields = tuple(parse_field(n, p, n in required) for n, p in props.items())
    labels = xrm.get("labels", {})
    singular = labels.get("singular") or doc.get("title") or name.split(".", 1)[1].title()
    plural = labels.get("plural") or f"{singular}s"
    indexes = tuple(
        IndexSpec(fields=tuple(ix["fields"]), unique=bool(ix.get("unique")), name=ix.get("name"))
        for ix in xrm.get("indexes", ())
    ) + tuple(IndexSpec(fields=tuple(u), unique=True) for u in xrm.get("unique", ()))
    title_field = xrm.get("titleField") or next((f.name for f in fields if f.type == "text"), None)
    return EntityDefinition(
        name=name,
        label=singular,
        label_plural=plural,
        description=doc.get("description", ""),
        fields=fields,
        title_field=title_field,
        search_fields=tuple(xrm.get("searchFields", (title_field,) if title_field else ())),
        list_columns=tuple(xrm.get("listColumns", [f.name for f in fields[:5]])),
        ownership=xrm.get("ownership", "user"),
        audit=bool(xrm.get("audit", True)),
        layer=layer or xrm.get("layer", "admin"),
        indexes=indexes,
        document=freeze(dict(doc)),
    )
