"""The SQLAlchemy tables of one entity definition.

Each compiled entity owns its tables in a MetaData of its own: its table, its association tables
and, for every table its foreign keys point at that is not one of them, a stand-in holding only
the ``id`` column. A compiled entity therefore depends on no other entity's compiled objects and
can be shared, unchanged, by every snapshot in which its definition is the same (see
:mod:`xrm.metadata.compiler`). Queries join on explicit conditions, never on these foreign
keys; the DDL they render (``REFERENCES <target>(id)``) is the same as with the real target.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from .fieldtypes import FIELD_TYPES, SQL_ON_DELETE
from .model import EntityDefinition, FieldSpec
from .names import association_table_name, index_name, short_identifier, table_name

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def id_column(name: str = "id") -> sa.Column:
    """A 64-bit auto-increment primary key; INTEGER on SQLite, where only an INTEGER PRIMARY
    KEY is the rowid and numbers itself (a BIGINT one would not)."""
    return sa.Column(name, ID_TYPE, primary_key=True, autoincrement=True)


def system_columns() -> list[sa.Column]:
    return [
        id_column(),
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


def referenced_entities(entity: EntityDefinition) -> frozenset[str]:
    """The other entities whose tables this entity's foreign keys point at."""
    return frozenset(
        f.opt("target")
        for f in entity.fields
        if f.type in ("reference", "manytomany")
        and isinstance(f.opt("target"), str)
        and f.opt("target") != entity.name
    )


def build_tables(
    entity: EntityDefinition, metadata: sa.MetaData | None = None, *, stand_ins: bool = True
) -> tuple[sa.Table, dict[str, sa.Table]]:
    """The entity's table and association tables (field name -> table), in ``metadata`` (a new
    one by default). ``stand_ins`` adds an ``id``-only table for each referenced table missing
    from ``metadata`` so that every foreign key resolves."""
    metadata = sa.MetaData() if metadata is None else metadata
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
    if stand_ins:
        add_stand_ins(metadata, [entity])
    return table, associations


def add_stand_ins(metadata: sa.MetaData, entities: Iterable[EntityDefinition]) -> None:
    """An ``id``-only table for every table referenced by ``entities`` that ``metadata`` lacks."""
    for e in entities:
        for target in sorted(referenced_entities(e)):
            name = table_name(target)
            if name not in metadata.tables:
                sa.Table(name, metadata, sa.Column("id", ID_TYPE, primary_key=True))


def ddl_tables(entities: Iterable[EntityDefinition]) -> tuple[sa.MetaData, list[sa.Table]]:
    """Fresh tables of several entities in one MetaData (stand-ins for the referenced tables
    that are not among them), for ``create_all``: it orders the CREATE TABLE statements by
    their foreign keys and handles cycles between the new tables."""
    entities = list(entities)
    metadata = sa.MetaData()
    tables: list[sa.Table] = []
    for e in entities:
        table, associations = build_tables(e, metadata, stand_ins=False)
        tables += [table, *associations.values()]
    add_stand_ins(metadata, entities)
    return metadata, tables


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
