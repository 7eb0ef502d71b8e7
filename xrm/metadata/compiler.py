"""Compile entity definitions into an immutable snapshot.

The snapshot is what every request reads: per entity, its SQLAlchemy tables, record validator
and serializer, the JSON Schema of its records, OpenAPI components and form spec. Compiling is
pure: definitions in, snapshot out.

Compiling is incremental and lazy:

- A new snapshot reuses the :class:`CompiledEntity` of the previous one for every entity whose
  definition is unchanged and whose referenced entities (reference and many-to-many targets)
  are unchanged too; only the rest is compiled again. Option sets are resolved into the
  definitions when planning, so a changed option set changes the definitions that use it.
  Sharing is safe because a compiled entity is never mutated once its parts are built and it
  owns its tables in a MetaData of its own (:mod:`xrm.metadata.tables`): a request still
  holding the previous snapshot sees exactly the objects it saw before.
- Tables are built on first use, and schemas and form specs likewise: start-up with hundreds
  of entities compiles none of them until a request needs one.
"""

from __future__ import annotations

import copy
import gc
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from .checkers import field_checker
from .fieldtypes import FIELD_TYPES, FieldType, FieldValueError, nullable
from .model import JSON_SCHEMA_DIALECT, EntityDefinition, FieldSpec, thaw
from .tables import (  # noqa: F401  (re-exported: the compiler's public names)
    ID_TYPE,
    association_table,
    build_tables,
    field_columns,
    field_indexes,
    referenced_entities,
    system_columns,
)

SYSTEM_FIELD_SCHEMAS = {
    "id": {"type": "integer", "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "created_by": {"type": ["integer", "null"], "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_by": {"type": ["integer", "null"], "readOnly": True},
    "owner_id": {"type": ["integer", "null"]},
    "row_version": {"type": "integer", "readOnly": True},
}


@dataclass(frozen=True)
class FieldProblem:
    """A record value that does not fit its field (pointer is ``/<field>``)."""

    field: str
    message: str

    @property
    def pointer(self) -> str:
        return f"/{self.field}"

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "field": self.field, "message": self.message}


class CompiledField:
    __slots__ = ("columns", "name", "spec", "type")

    def __init__(self, spec: FieldSpec):
        self.spec = spec
        self.name = spec.name
        self.type: FieldType = FIELD_TYPES[spec.type]
        self.columns = tuple(self.type.column_names(spec))


class CompiledEntity:
    """Everything the platform needs to serve one entity at one metadata version."""

    def __init__(self, definition: EntityDefinition):
        self.definition = definition
        self.name = definition.name
        self.fields: Mapping[str, CompiledField] = MappingProxyType(
            {f.name: CompiledField(f) for f in definition.fields}
        )
        self._column_fields = tuple(f for f in self.fields.values() if not f.type.association)
        # What validate() looks up for every value, looked up once; each field's conversion
        # compiled with its constraints bound (:mod:`.checkers`).
        self._writable = {
            f.name: (f.spec, field_checker(f.spec, f.type.coerce), f.type.association)
            for f in self.fields.values()
            if not (f.type.generated or f.spec.readonly)
        }
        #: System-maintained fields (``x-xrm.maintainedBy``) -> what keeps them: writable by
        #: the platform's own code (validate() takes them), refused to users by the record
        #: service (see :func:`xrm.core.records.checks.refuse_maintained_fields`).
        self.maintained: Mapping[str, str] = MappingProxyType(
            {f.name: f.spec.maintained_by for f in self.fields.values() if f.spec.maintained_by}
        )
        self._required_input = tuple(
            (f.name, f.spec.label)
            for f in self.fields.values()
            if f.spec.required and not f.type.generated and not f.spec.has_default
        )
        self._tables: tuple[sa.Table, Mapping[str, sa.Table]] | None = None
        self._tables_lock = threading.Lock()

    # -- tables (built on first use, once) ------------------------------------------------------

    @property
    def table(self) -> sa.Table:
        """The entity's table (in a MetaData of its own, see :mod:`xrm.metadata.tables`)."""
        return (self._tables or self._build_tables())[0]

    @property
    def associations(self) -> Mapping[str, sa.Table]:
        """Association tables of the many-to-many fields, by field name."""
        return (self._tables or self._build_tables())[1]

    @property
    def tables_built(self) -> bool:
        return self._tables is not None

    def _build_tables(self) -> tuple[sa.Table, Mapping[str, sa.Table]]:
        with self._tables_lock:  # two requests asking at once get the same tables
            if self._tables is None:
                table, associations = build_tables(self.definition)
                self._tables = (table, MappingProxyType(associations))
            return self._tables

    # -- validation -------------------------------------------------------------------------

    def validate(
        self, data: Mapping[str, Any], *, partial: bool = False, lenient: bool = False
    ) -> tuple[dict[str, Any], list[FieldProblem]]:
        """Check and convert client values. Returns (field -> Python value, problems).

        ``partial`` (a patch) skips the required check for absent fields. Unknown, read-only
        and generated fields are problems, not silently dropped.
        """
        values: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        writable = self._writable
        for key, raw in data.items():
            found = writable.get(key)
            if found is None:
                cf = self.fields.get(key)
                if cf is not None:
                    problems.append(FieldProblem(key, f"{cf.spec.label} is read-only"))
                elif key not in SYSTEM_FIELD_SCHEMAS:
                    problems.append(FieldProblem(key, f"{self.name} has no field {key!r}"))
                continue
            spec, check, association = found
            if raw is None or (association and raw == []):
                if spec.required:
                    problems.append(FieldProblem(key, f"{spec.label} is required"))
                values[key] = [] if association else None
                continue
            try:
                values[key] = check(raw, lenient)
            except FieldValueError as exc:
                problems.append(FieldProblem(key, f"{spec.label} {exc}"))
        if not partial:
            for name, label in self._required_input:
                if name not in data:
                    problems.append(FieldProblem(name, f"{label} is required"))
        return values, problems

    def defaults(self) -> dict[str, Any]:
        """Coerced default values of the fields that declare one (a fresh dict each call:
        callers change it)."""
        return {
            k: copy.deepcopy(v) if isinstance(v, list | dict) else v
            for k, v in self._defaults.items()
        }

    @cached_property
    def _defaults(self) -> dict[str, Any]:
        out = {}
        for cf in self.fields.values():
            if cf.spec.has_default and cf.spec.default is not None:
                out[cf.name] = cf.type.coerce(cf.spec, thaw(cf.spec.default), False)
        return out

    def to_row(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Field values -> column values for the entity table (association fields excluded)."""
        row: dict[str, Any] = {}
        for key, value in values.items():
            cf = self.fields[key]
            row.update(cf.type.to_row(cf.spec, value))
        return row

    # -- serialization ----------------------------------------------------------------------

    def dump(self, row: Mapping[str, Any], fields: Iterable[str] | None = None) -> dict[str, Any]:
        """A fetched row (column mapping) -> the JSON record."""
        out: dict[str, Any] = {"id": row["id"]}
        get = row.get
        for cf in self._column_fields:
            if fields is None or cf.name in fields:
                columns = cf.columns  # as cf.type.from_row, without rebuilding the columns
                raw = get(columns[0]) if len(columns) == 1 else tuple(get(c) for c in columns)
                out[cf.name] = cf.type.dump(cf.spec, raw)
        for key in ("created_at", "updated_at"):
            if key in row:
                out[key] = FIELD_TYPES["datetime"].dump(None, row[key])
        for key in ("created_by", "updated_by", "owner_id", "row_version"):
            if key in row:
                out[key] = row[key]
        return out

    # -- published forms ----------------------------------------------------------------------

    @cached_property
    def record_schema(self) -> dict[str, Any]:
        """The JSON Schema (2020-12) a record of this entity satisfies."""
        props: dict[str, Any] = {k: dict(v) for k, v in SYSTEM_FIELD_SCHEMAS.items()}
        for cf in self.fields.values():
            s = nullable(cf.type.value_schema(cf.spec), cf.spec.required)
            s["title"] = cf.spec.label
            if cf.spec.description:
                s["description"] = cf.spec.description
            if cf.spec.has_default:
                s["default"] = thaw(cf.spec.default)
            if cf.type.generated or cf.spec.readonly or cf.spec.maintained_by:
                s["readOnly"] = True
            props[cf.name] = s
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": self.definition.label,
            "type": "object",
            "properties": props,
            "required": [f.name for f in self.definition.fields if f.required],
        }

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        """Schema of a create body: writable fields only, no system columns."""
        rs = self.record_schema
        props = {
            k: {kk: vv for kk, vv in v.items() if kk != "readOnly"}
            for k, v in rs["properties"].items()
            if k in self.fields and not v.get("readOnly")
        }
        required = [
            f.name
            for f in self.definition.fields
            if f.required and not f.has_default and f.name in props
        ]
        return {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }

    @cached_property
    def form_spec(self) -> dict[str, Any]:
        """What a generated form needs: one widget per field, in definition order."""
        widgets = {
            "text": "text",
            "longtext": "textarea",
            "integer": "number",
            "bigint": "number",
            "decimal": "decimal",
            "float": "number",
            "money": "money",
            "boolean": "checkbox",
            "date": "date",
            "datetime": "datetime",
            "choice": "select",
            "multichoice": "multiselect",
            "reference": "lookup",
            "regarding": "lookup-any",
            "manytomany": "lookup-many",
            "json": "json",
            "uuid": "text",
            "autonumber": "readonly",
        }
        items = []
        for cf in self.fields.values():
            spec = cf.spec
            item = {
                "name": spec.name,
                "label": spec.label,
                "type": spec.type,
                "widget": widgets[spec.type],
                "required": spec.required,
                "readOnly": bool(spec.readonly or cf.type.generated or spec.maintained_by),
                "description": spec.description,
            }
            if spec.maintained_by:
                item["maintainedBy"] = spec.maintained_by
            if spec.type in ("choice", "multichoice"):
                labels = {o["value"]: o for o in thaw(spec.opt("options", ()))}
                item["options"] = [
                    {
                        "value": v,
                        "label": labels.get(v, {}).get("label", v),
                        "color": labels.get(v, {}).get("color"),
                    }
                    for v in spec.kw("enum", ())
                ]
            if spec.type in ("reference", "manytomany"):
                item["target"] = spec.opt("target")
            if spec.type == "text" and spec.kw("format"):
                item["format"] = spec.kw("format")
            if spec.has_default:
                item["default"] = thaw(spec.default)
            items.append(item)
        d = self.definition
        return {
            "entity": d.name,
            "label": d.label,
            "labelPlural": d.label_plural,
            "titleField": d.title_field,
            "listColumns": list(d.list_columns),
            "searchFields": list(d.search_fields),
            "fields": items,
        }

    @cached_property
    def operators(self) -> Mapping[str, tuple[str, ...]]:
        """Filter operators allowed per field (the filter whitelist)."""
        ops = {cf.name: cf.type.operators for cf in self.fields.values()}
        ops.update({"id": ("eq", "neq", "gt", "gte", "lt", "lte", "in")})
        for k in ("created_at", "updated_at"):
            ops[k] = ("eq", "neq", "gt", "gte", "lt", "lte", "is")
        for k in ("created_by", "updated_by", "owner_id"):
            ops[k] = ("eq", "neq", "in", "is")
        return MappingProxyType(ops)

    @cached_property
    def sortable(self) -> frozenset[str]:
        return frozenset(
            [cf.name for cf in self.fields.values() if cf.type.sortable and len(cf.columns) == 1]
            + ["id", "created_at", "updated_at"]
        )

    def openapi_components(self) -> dict[str, Any]:
        key = self.name.replace(".", "_")
        return {f"{key}": self.record_schema, f"{key}_input": self.input_schema}


@dataclass(frozen=True)
class MetadataSnapshot:
    """One metadata version, compiled. Never mutated: a new version is a new snapshot (which
    shares the compiled entities that did not change)."""

    version: int
    entities: Mapping[str, CompiledEntity]

    def entity(self, name: str) -> CompiledEntity:
        from .errors import UnknownEntity

        try:
            return self.entities[name]
        except KeyError:
            raise UnknownEntity(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self.entities

    @property
    def definitions(self) -> dict[str, EntityDefinition]:
        return {n: e.definition for n, e in self.entities.items()}


def compile_snapshot(
    version: int,
    definitions: Iterable[EntityDefinition],
    previous: MetadataSnapshot | None = None,
) -> MetadataSnapshot:
    """The snapshot of ``definitions`` at ``version``, reusing what ``previous`` compiled for
    the entities that did not change (see the module documentation)."""
    # Many small, long-lived objects: the cyclic garbage collector would scan them repeatedly
    # for nothing while they are created.
    enabled = gc.isenabled()
    gc.disable()
    try:
        defs = {d.name: d for d in definitions}
        reused = reusable(defs, previous)
        compiled = {n: reused.get(n) or CompiledEntity(defs[n]) for n in sorted(defs)}
        return MetadataSnapshot(version=version, entities=MappingProxyType(compiled))
    finally:
        if enabled:
            gc.enable()


def reusable(
    definitions: Mapping[str, EntityDefinition], previous: MetadataSnapshot | None
) -> dict[str, CompiledEntity]:
    """The compiled entities of ``previous`` that a snapshot of ``definitions`` may share: same
    definition, and every entity it references has the same definition (or is absent) in both."""
    if previous is None:
        return {}
    before = previous.entities
    same = {
        n
        for n, d in definitions.items()
        if n in before and (before[n].definition is d or before[n].definition == d)
    }

    def unchanged(name: str) -> bool:
        return name in same or (name not in definitions and name not in before)

    return {
        n: before[n] for n in same if all(unchanged(t) for t in referenced_entities(definitions[n]))
    }
