"""Compile entity definitions into an immutable snapshot.

The snapshot is what every request reads: SQLAlchemy tables (one MetaData, real foreign keys),
per-entity record validators and serializers, the JSON Schema of records, OpenAPI components and
form specs. Compiling is pure: definitions in, snapshot out. Expensive parts that most requests
never need (schemas, form specs) are computed on first use and then kept.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from .fieldtypes import FIELD_TYPES, SQL_ON_DELETE, FieldType, FieldValueError, nullable
from .model import JSON_SCHEMA_DIALECT, EntityDefinition, FieldSpec, thaw
from .names import association_table_name, index_name, short_identifier, table_name

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SYSTEM_FIELD_SCHEMAS = {
    "id": {"type": "integer", "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "created_by": {"type": ["integer", "null"], "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_by": {"type": ["integer", "null"], "readOnly": True},
    "owner_id": {"type": ["integer", "null"]},
    "row_version": {"type": "integer", "readOnly": True},
}


def system_columns() -> list[sa.Column]:
    return [
        sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
    ]


def field_columns(entity: EntityDefinition, spec: FieldSpec) -> list[sa.Column]:
    """Physical columns of one field (empty for association-backed fields)."""
    ftype = FIELD_TYPES[spec.type]
    cols = []
    for cname, ctype, kw in ftype.columns(spec):
        args: list[Any] = []
        if spec.type == "reference":
            target = table_name(spec.opt("target"))
            on_delete = SQL_ON_DELETE[spec.opt("onDelete", "restrict")]
            args.append(
                sa.ForeignKey(
                    f"{target}.id",
                    ondelete=on_delete,
                    name=short_identifier("fk", entity.table, cname),
                )
            )
        cols.append(sa.Column(cname, ctype, *args, nullable=True, **kw))
    return cols


def field_indexes(entity: EntityDefinition, table: sa.Table) -> list[sa.Index]:
    """Indexes the definition asks for, plus one per reference and regarding field."""
    out: dict[str, sa.Index] = {}

    def add(cols: list[str], unique: bool, name: str | None = None) -> None:
        iname = name or index_name(entity.table, cols, unique)
        if iname not in out:
            out[iname] = sa.Index(iname, *(table.c[c] for c in cols), unique=unique)

    fmap = entity.field_map
    for f in entity.fields:
        ftype = FIELD_TYPES[f.type]
        if f.type in ("reference", "regarding") and not f.unique:
            add(ftype.column_names(f), False)
        if f.type == "autonumber":
            add(ftype.column_names(f), True)
    for ix in entity.all_indexes:
        cols = [
            c
            for fname in ix.fields
            for c in FIELD_TYPES[fmap[fname].type].column_names(fmap[fname])
        ]
        add(cols, ix.unique, ix.name)
    return list(out.values())


def build_tables(
    entity: EntityDefinition, metadata: sa.MetaData
) -> tuple[sa.Table, dict[str, sa.Table]]:
    cols = system_columns()
    for f in entity.fields:
        cols.extend(field_columns(entity, f))
    table = sa.Table(entity.table, metadata, *cols)
    sa.Index(index_name(entity.table, ["owner_id"]), table.c.owner_id)
    field_indexes(entity, table)
    associations = {}
    for f in entity.fields:
        if f.type == "manytomany":
            associations[f.name] = association_table(entity, f, metadata)
    return table, associations


def association_table(entity: EntityDefinition, spec: FieldSpec, metadata: sa.MetaData) -> sa.Table:
    name = association_table_name(entity.name, spec.name)
    target = table_name(spec.opt("target"))
    return sa.Table(
        name,
        metadata,
        sa.Column(
            "source_id",
            sa.BigInteger(),
            sa.ForeignKey(
                f"{entity.table}.id",
                ondelete="CASCADE",
                name=short_identifier("fk", name, "source"),
            ),
            primary_key=True,
        ),
        sa.Column(
            "target_id",
            sa.BigInteger(),
            sa.ForeignKey(
                f"{target}.id", ondelete="CASCADE", name=short_identifier("fk", name, "target")
            ),
            primary_key=True,
        ),
        sa.Index(short_identifier("ix", name, "target"), "target_id"),
    )


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

    def __init__(
        self, definition: EntityDefinition, table: sa.Table, associations: Mapping[str, sa.Table]
    ):
        self.definition = definition
        self.name = definition.name
        self.table = table
        self.associations = MappingProxyType(dict(associations))
        self.fields: Mapping[str, CompiledField] = MappingProxyType(
            {f.name: CompiledField(f) for f in definition.fields}
        )
        self._column_fields = tuple(f for f in self.fields.values() if not f.type.association)

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
        for key, raw in data.items():
            cf = self.fields.get(key)
            if cf is None:
                if key not in SYSTEM_FIELD_SCHEMAS:
                    problems.append(FieldProblem(key, f"{self.name} has no field {key!r}"))
                continue
            if cf.type.generated or cf.spec.readonly:
                problems.append(FieldProblem(key, f"{cf.spec.label} is read-only"))
                continue
            if raw is None or (cf.type.association and raw == []):
                if cf.spec.required:
                    problems.append(FieldProblem(key, f"{cf.spec.label} is required"))
                values[key] = [] if cf.type.association else None
                continue
            try:
                values[key] = cf.type.coerce(cf.spec, raw, lenient)
            except FieldValueError as exc:
                problems.append(FieldProblem(key, f"{cf.spec.label} {exc}"))
        if not partial:
            for cf in self.fields.values():
                if (
                    cf.spec.required
                    and cf.name not in data
                    and not cf.type.generated
                    and not cf.spec.has_default
                ):
                    problems.append(FieldProblem(cf.name, f"{cf.spec.label} is required"))
        return values, problems

    def defaults(self) -> dict[str, Any]:
        """Coerced default values of the fields that declare one."""
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
        for cf in self._column_fields:
            if fields is None or cf.name in fields:
                out[cf.name] = cf.type.from_row(cf.spec, row)
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
            if cf.type.generated or cf.spec.readonly:
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
                "readOnly": spec.readonly or cf.type.generated,
                "description": spec.description,
            }
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
    """One metadata version, compiled. Never mutated: a new version is a new snapshot."""

    version: int
    entities: Mapping[str, CompiledEntity]
    metadata: sa.MetaData

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


def compile_snapshot(version: int, definitions: Iterable[EntityDefinition]) -> MetadataSnapshot:
    # Building hundreds of tables allocates many small, long-lived objects; the cyclic garbage
    # collector would scan them repeatedly for nothing (it halves the compile time to pause it).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(version, definitions)
    finally:
        if enabled:
            gc.enable()


def _compile(version: int, definitions: Iterable[EntityDefinition]) -> MetadataSnapshot:
    metadata = sa.MetaData()
    compiled = {}
    for d in sorted(definitions, key=lambda d: d.name):
        table, assoc = build_tables(d, metadata)
        compiled[d.name] = CompiledEntity(d, table, assoc)
    return MetadataSnapshot(version=version, entities=MappingProxyType(compiled), metadata=metadata)
