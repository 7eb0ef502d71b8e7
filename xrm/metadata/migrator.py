"""Carry out a migration plan on a live connection, inside the caller's transaction.

DDL goes through Alembic's ``Operations`` where Alembic does the right thing on both databases;
the few statements Alembic does not offer (renaming a column in place) are written here.
Nothing commits: the registry owns the transaction, so a failure anywhere leaves schema, data
and definitions as they were.

Data checks (:func:`check_plan`) count the rows a checked operation would reject, with samples,
before anything changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import store
from .compiler import MetadataSnapshot
from .errors import PlanRefused
from .fieldtypes import FIELD_TYPES, SQL_ON_DELETE, FieldValueError
from .model import EntityDefinition, FieldSpec, thaw
from .names import archive_column_name, association_table_name, short_identifier, table_name
from .planner import (
    AddField,
    AddIndex,
    AlterField,
    ArchiveEntity,
    ArchiveField,
    ConvertField,
    CreateEntity,
    DropIndex,
    MigrationPlan,
    Operation,
    RenameField,
    RestoreField,
    Risk,
)
from .tables import ddl_tables, field_columns

if TYPE_CHECKING:
    from alembic.operations import Operations

SAMPLES = 5
BATCH = 1000


@dataclass
class ApplyContext:
    conn: sa.Connection
    current: MetadataSnapshot
    new: MetadataSnapshot
    version: int
    fallbacks: Mapping[str, str] = field(default_factory=dict)

    @property
    def ops(self) -> Operations:
        return _operations(self.conn)

    @property
    def sqlite(self) -> bool:
        return self.conn.dialect.name == "sqlite"

    def q(self, name: str) -> str:
        return self.conn.dialect.identifier_preparer.quote(name)


def _operations(conn: sa.Connection) -> Operations:
    # Alembic is imported when a change is applied, not at start-up (a third of a second).
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    return Operations(MigrationContext.configure(conn))


# -- data checks --------------------------------------------------------------------------------


def check_plan(
    conn: sa.Connection, plan: MigrationPlan, current: MetadataSnapshot
) -> dict[int, dict]:
    """Count, for every checked operation, the rows that would not fit, with a few samples."""
    checks: dict[int, dict] = {}
    existing = _existing_tables(conn)
    for i, op in enumerate(plan.operations):
        if op.risk_of is not Risk.CHECKED or table_name(op.entity) not in existing:
            continue
        table = current.entity(op.entity).table if op.entity in current else None
        if table is None:
            continue
        if isinstance(op, AddField):
            n = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            checks[i] = {
                "failing": n,
                "samples": [],
                "message": f"{n} existing row(s) would have no value for required field {op.field.name}",
            }
        elif isinstance(op, ConvertField | AlterField):
            failing, samples = 0, []
            # A unique field: two values that convert to the same one would break the index.
            converted: dict[Any, list[tuple[int, Any]]] = {}
            new_t = FIELD_TYPES[op.new.type]
            for rid, _value, problem in _convert_rows(conn, table, op.old, op.new):
                if problem is not None:
                    failing += 1
                    if len(samples) < SAMPLES:
                        samples.append({"id": rid, "value": _jsonable(_value), "message": problem})
                elif op.new.unique and _value is not None:
                    key = new_t.coerce(op.new, _widen_input(op.old.type, _value), True)
                    converted.setdefault(key, []).append((rid, _value))
            duplicates = 0
            for key, rows in converted.items():
                if len(rows) < 2:
                    continue
                failing += len(rows)
                duplicates += len(rows)
                for rid, value in rows:
                    if len(samples) < SAMPLES:
                        samples.append(
                            {
                                "id": rid,
                                "value": _jsonable(value),
                                "message": f"converts to {_jsonable(key)!r}, as {len(rows) - 1} other row(s) do",
                            }
                        )
            checks[i] = {"failing": failing, "samples": samples}
            if duplicates:  # a null fallback does not help with these
                checks[i]["duplicates"] = duplicates
        elif isinstance(op, AddIndex) and op.unique:
            cols = _columns_before(plan, op, table)
            if cols is None:
                continue
            dup = (
                sa.select(*cols, sa.func.count().label("n"))
                .select_from(table)
                .where(*(c.is_not(None) for c in cols))
                .group_by(*cols)
                .having(sa.func.count() > 1)
            )
            rows = conn.execute(dup).all()
            checks[i] = {
                "failing": sum(r.n for r in rows),
                "samples": [
                    {"value": _jsonable(list(r[:-1])), "count": r.n} for r in rows[:SAMPLES]
                ],
                "message": f"{len(rows)} value(s) occur more than once",
            }
    return checks


def _columns_before(plan: MigrationPlan, op: AddIndex, table: sa.Table) -> list[sa.Column] | None:
    """The current columns whose values a new unique index compares, or None when nothing can
    collide. A renamed column is checked under its old name; a column added in the same plan
    with a default gets the same value on every row, so only the other columns tell rows apart
    (with none left, any two rows collide); one added without a default is empty, and NULLs
    never collide."""
    renames, filled = {}, set()
    for other in plan.operations:
        if isinstance(other, RenameField) and other.entity == op.entity:
            for a, b in zip(_cols(other.old), _cols(other.new), strict=True):
                renames[b] = a
        if (
            isinstance(other, AddField)
            and other.entity == op.entity
            and other.field.default is not None
        ):
            filled.update(_cols(other.field) if other.field.has_default else ())
    cols = []
    for c in (renames.get(c, c) for c in op.columns):
        if c in filled:
            continue
        if c not in table.c:
            return None
        cols.append(table.c[c])
    return cols


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def _convert_rows(
    conn, table: sa.Table, old: FieldSpec, new: FieldSpec
) -> Iterator[tuple[int, Any, str | None]]:
    """Yield (id, JSON value, problem or None) for every row with a value, converting each
    value with the new field's own rules (the same code the API uses)."""
    old_t, new_t = FIELD_TYPES[old.type], FIELD_TYPES[new.type]
    cols = [table.c[c] for c in old_t.column_names(old)]
    dangling = _dangling_references(conn, table, cols[0], new) if new.type == "reference" else set()
    q = sa.select(table.c.id, *cols).order_by(table.c.id)
    if not new.required:  # a required field must also report the rows without a value
        q = q.where(sa.or_(*(c.is_not(None) for c in cols)))
    for row in conn.execute(q).yield_per(BATCH):
        value = old_t.from_row(old, row._mapping)
        if value is None:
            if new.required:
                yield row.id, None, "no value for a required field"
            continue
        try:
            new_t.coerce(new, _widen_input(old.type, value, new.type), True)
            if row.id in dangling:
                yield row.id, value, f"no {new.opt('target')} record has the id {value}"
            else:
                yield row.id, value, None
        except FieldValueError as exc:
            yield (
                row.id,
                value,
                f"{value!r} {exc}" if not str(exc).startswith(repr(value)) else str(exc),
            )


def _dangling_references(conn, table: sa.Table, column: sa.Column, new: FieldSpec) -> set[int]:
    """Ids of the rows whose value names no record of the new reference's target (the foreign
    key could not be created)."""
    target_name = table_name(new.opt("target"))
    q = sa.select(table.c.id).where(column.is_not(None))
    if target_name in _existing_tables(conn):
        target = sa.table(target_name, sa.column("id"))
        q = q.where(~sa.exists().where(target.c.id == column))
    return set(conn.execute(q).scalars())


def _widen_input(old_type: str, value: Any, new_type: str = "text") -> Any:
    """The old JSON value as the new type's lenient reader expects it."""
    if old_type == "money" and isinstance(value, dict):
        return value["amount"]
    if isinstance(value, bool) and new_type in ("text", "longtext"):
        return "true" if value else "false"
    return value


# -- applying ------------------------------------------------------------------------------------


def needs_sqlite_rebuild(plan: MigrationPlan) -> bool:
    """True when a SQLite table must be rebuilt with foreign keys off (removing or changing a
    foreign key): SQLite's documented 12-step procedure."""
    for op in plan.operations:
        if isinstance(op, ArchiveField | AddField | RestoreField) and op.field.type == "reference":
            return True
        if isinstance(op, AlterField) and "onDelete" in op.changes:
            return True
        if isinstance(op, ConvertField) and "reference" in (op.old.type, op.new.type):
            return True
    return False


def refuse_failing_checks(plan: MigrationPlan, fallbacks: Mapping[str, str]) -> None:
    failures = []
    for i, check in plan.checks.items():
        if not check.get("failing"):
            continue
        op = plan.operations[i]
        fname = getattr(getattr(op, "new", None), "name", None)
        key = f"{op.entity}.{fname}" if fname else None
        if (
            key
            and fallbacks.get(key) == "null"
            and not op.new.required
            and not check.get("duplicates")
        ):
            continue
        failures.append({"operation": op.as_dict(), **check})
    if failures:
        lines = "; ".join(
            f"{f['operation']['description']}: {f['failing']} row(s) do not fit" for f in failures
        )
        raise PlanRefused(
            f"refused, existing data does not fit: {lines}. Fix the data, or choose a fallback "
            "(set to null) for conversions of optional fields.",
            failures,
        )


def execute_plan(ctx: ApplyContext, plan: MigrationPlan) -> None:
    creates = [op for op in plan.operations if isinstance(op, CreateEntity)]
    if creates:
        _create_entities(ctx, [op.entity for op in creates])
    for op in plan.operations:
        if isinstance(op, CreateEntity):
            continue
        handler = _HANDLERS.get(type(op))
        if handler is not None:
            handler(ctx, op)


def _existing_tables(conn) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def _create_entities(ctx: ApplyContext, names: list[str]) -> None:
    # One MetaData for all new tables: create_all orders them by their foreign keys.
    metadata, tables = ddl_tables(ctx.new.entity(name).definition for name in names)
    taken = _existing_tables(ctx.conn) & {t.name for t in tables}
    if taken:
        raise PlanRefused(f"table(s) {', '.join(sorted(taken))} already exist in the database")
    metadata.create_all(ctx.conn, tables=tables, checkfirst=False)


def _cols(spec: FieldSpec) -> list[str]:
    return FIELD_TYPES[spec.type].column_names(spec)


def _add_field(ctx: ApplyContext, op: AddField) -> None:
    ce = ctx.new.entity(op.entity)
    spec = op.field
    ftype = FIELD_TYPES[spec.type]
    if ftype.association:
        ce.associations[spec.name].create(ctx.conn)
        return
    table = ce.definition.table
    for col in field_columns(ce.definition, spec):
        col = col._copy()
        if spec.type == "reference" and ctx.sqlite:
            _sqlite_add_fk_column(ctx, table, col, spec)
        else:
            ctx.ops.add_column(table, col)
    if spec.has_default and spec.default is not None:
        values = ftype.to_row(spec, ftype.coerce(spec, thaw(spec.default), False))
        live = ce.table
        ctx.conn.execute(live.update().values(**values))


def _sqlite_add_fk_column(ctx: ApplyContext, table: str, col: sa.Column, spec: FieldSpec) -> None:
    # ALTER TABLE ADD COLUMN can only add an inline column constraint, which SQLAlchemy's SQLite
    # reflection reports without its name and ON DELETE rule, so the foreign key could never be
    # changed or dropped later. Rebuild the table instead (foreign keys are off for the rebuild,
    # see needs_sqlite_rebuild): the new table has a named, table-level constraint.
    with ctx.ops.batch_alter_table(table, recreate="always") as batch:
        batch.add_column(col)


def _rename_column(ctx: ApplyContext, table: str, old: str, new: str) -> None:
    ctx.conn.exec_driver_sql(
        f"ALTER TABLE {ctx.q(table)} RENAME COLUMN {ctx.q(old)} TO {ctx.q(new)}"
    )


def _rename_field(ctx: ApplyContext, op: RenameField) -> None:
    table = table_name(op.entity)
    if FIELD_TYPES[op.old.type].association:
        ctx.ops.rename_table(
            association_table_name(op.entity, op.old.name),
            association_table_name(op.entity, op.new.name),
        )
        return
    for a, b in zip(_cols(op.old), _cols(op.new), strict=True):
        _rename_column(ctx, table, a, b)


def _archive_field(ctx: ApplyContext, op: ArchiveField, reason: str = "removed") -> list[list[str]]:
    spec = op.field
    table = table_name(op.entity)
    pairs: list[list[str]] = []
    assoc = None
    if FIELD_TYPES[spec.type].association:
        assoc_old = association_table_name(op.entity, spec.name)
        assoc = archive_column_name(assoc_old, ctx.version)
        ctx.ops.rename_table(assoc_old, assoc)
    else:
        for col in _cols(spec):
            archived = archive_column_name(col, ctx.version)
            pairs.append([archived, col])
            if spec.type == "reference":
                _drop_foreign_key(ctx, table, col)
            _rename_column(ctx, table, col, archived)
    ctx.conn.execute(
        store.archived_column.insert().values(
            entity=op.entity,
            field=spec.name,
            reason=reason,
            field_definition=store.dumps(_field_doc(ctx.current, op.entity, spec.name)),
            columns=json.dumps(pairs),
            association_table=assoc,
            metadata_version=ctx.version,
            archived_at=store.utcnow(),
        )
    )
    return pairs


def _field_doc(snapshot: MetadataSnapshot, entity: str, field_name: str) -> dict:
    doc = thaw(snapshot.entity(entity).definition.document)
    return {
        "name": field_name,
        "property": doc.get("properties", {}).get(field_name, {}),
        "required": field_name in doc.get("required", []),
    }


def _drop_foreign_key(ctx: ApplyContext, table: str, column: str) -> None:
    fks = [
        fk
        for fk in sa.inspect(ctx.conn).get_foreign_keys(table)
        if fk["constrained_columns"] == [column]
    ]
    if not fks:
        return
    if ctx.sqlite:
        with ctx.ops.batch_alter_table(table, recreate="always") as batch:
            for fk in fks:
                batch.drop_constraint(fk["name"], type_="foreignkey")
    else:
        for fk in fks:
            ctx.ops.drop_constraint(fk["name"], table, type_="foreignkey")


def _create_foreign_key(
    ctx: ApplyContext, entity: str, spec: FieldSpec, column: str | None = None
) -> None:
    table = table_name(entity)
    column = column or spec.name
    name = short_identifier("fk", table, column)
    target = table_name(spec.opt("target"))
    ondelete = SQL_ON_DELETE[spec.opt("onDelete", "restrict")]
    if ctx.sqlite:
        with ctx.ops.batch_alter_table(table, recreate="always") as batch:
            batch.create_foreign_key(name, target, [column], ["id"], ondelete=ondelete)
    else:
        ctx.ops.create_foreign_key(name, table, target, [column], ["id"], ondelete=ondelete)


def _convert_field(ctx: ApplyContext, op: ConvertField | AlterField) -> None:
    """Write converted values into new column(s), archive the old ones, move the new in place."""
    old, new = op.old, op.new
    table = table_name(op.entity)
    old_table = ctx.current.entity(op.entity).table
    new_t = FIELD_TYPES[new.type]
    tmp_cols = []
    for col in field_columns(ctx.new.entity(op.entity).definition, new):
        tmp = col._copy()
        tmp.name = tmp.key = short_identifier("xn", col.name)
        tmp.foreign_keys.clear()
        tmp.constraints.clear()
        tmp_cols.append((col.name, tmp))
        ctx.ops.add_column(table, sa.Column(tmp.name, tmp.type, nullable=True))
    tmp_table = sa.table(table, sa.column("id"), *(sa.column(t.name, t.type) for _, t in tmp_cols))
    # Indexes follow a renamed column; move them to the converted column afterwards.
    old_cols = set(_cols(old))
    moved = [
        ix for ix in sa.inspect(ctx.conn).get_indexes(table) if set(ix["column_names"]) & old_cols
    ]
    for ix in moved:
        ctx.ops.drop_index(ix["name"], table_name=table)
    fallback_null = ctx.fallbacks.get(f"{op.entity}.{new.name}") == "null"
    batch: list[dict] = []
    for rid, value, problem in _convert_rows(ctx.conn, old_table, old, new):
        if problem is not None:
            if not fallback_null:
                raise PlanRefused(f"{op.entity}.{new.name}: row {rid}: {problem}")
            converted = None
        else:
            converted = new_t.coerce(new, _widen_input(old.type, value, new.type), True)
        values = new_t.to_row(new, converted)
        batch.append({"_id": rid, **{tmp.name: values[final] for final, tmp in tmp_cols}})
        if len(batch) >= BATCH:
            _flush(ctx, tmp_table, batch)
    _flush(ctx, tmp_table, batch)
    _archive_field(ctx, ArchiveField(op.entity, field=old), reason="converted")
    for final, tmp in tmp_cols:
        _rename_column(ctx, table, tmp.name, final)
    # Recreate every moved index whose columns exist again (a multi-field unique constraint
    # includes columns of other fields); indexes on columns that no longer exist under the same
    # name are recreated by the plan's own index operations.
    live = {c["name"] for c in sa.inspect(ctx.conn).get_columns(table)}
    for ix in moved:
        if set(ix["column_names"]) <= live:
            ctx.ops.create_index(ix["name"], table, ix["column_names"], unique=bool(ix["unique"]))
    if new.type == "reference":
        _create_foreign_key(ctx, op.entity, new)


def _flush(ctx: ApplyContext, tmp_table, batch: list[dict]) -> None:
    if not batch:
        return
    cols = [c for c in batch[0] if c != "_id"]
    stmt = (
        tmp_table.update()
        .where(tmp_table.c.id == sa.bindparam("_id"))
        .values({c: sa.bindparam(c) for c in cols})
    )
    ctx.conn.execute(stmt, batch)
    batch.clear()


def _alter_field(ctx: ApplyContext, op: AlterField) -> None:
    old, new = op.old, op.new
    table = table_name(op.entity)
    if "onDelete" in op.changes and new.type == "reference":
        _drop_foreign_key(ctx, table, new.name)
        _create_foreign_key(ctx, op.entity, new)
    rewrite = new.type in ("decimal", "money") and ({"scale", "precision"} & set(op.changes))
    if rewrite or (op.column_change and not ctx.sqlite and new.type not in ("reference",)):
        if rewrite:
            _convert_field(ctx, op)
            return
        for col in field_columns(ctx.new.entity(op.entity).definition, new):
            ctx.ops.alter_column(table, col.name, type_=col.type, existing_nullable=True)
    if op.tightened and ctx.fallbacks.get(f"{op.entity}.{new.name}") == "null" and not new.required:
        failing = [
            rid
            for rid, _v, p in _convert_rows(ctx.conn, ctx.current.entity(op.entity).table, old, new)
            if p
        ]
        if failing:
            live = ctx.new.entity(op.entity).table
            nulls = FIELD_TYPES[new.type].to_row(new, None)
            for i in range(0, len(failing), BATCH):
                ctx.conn.execute(
                    live.update().where(live.c.id.in_(failing[i : i + BATCH])).values(**nulls)
                )


def _restore_field(ctx: ApplyContext, op: RestoreField) -> None:
    t = store.archived_column
    row = ctx.conn.execute(
        sa.select(t)
        .where(t.c.entity == op.entity, t.c.field == op.field.name, t.c.reason == "removed")
        .order_by(t.c.id.desc())
        .limit(1)
    ).one()
    table = table_name(op.entity)
    if row.association_table:
        ctx.ops.rename_table(
            row.association_table, association_table_name(op.entity, op.field.name)
        )
    for archived, original in json.loads(row.columns):
        _rename_column(ctx, table, archived, original)
    if op.field.type == "reference":
        # Targets deleted while the field was archived cannot be linked again.
        target = table_name(op.field.opt("target"))
        ctx.conn.exec_driver_sql(
            f"UPDATE {ctx.q(table)} SET {ctx.q(op.field.name)} = NULL WHERE {ctx.q(op.field.name)} "
            f"IS NOT NULL AND {ctx.q(op.field.name)} NOT IN (SELECT id FROM {ctx.q(target)})"
        )
        _create_foreign_key(ctx, op.entity, op.field)
    ctx.conn.execute(t.delete().where(t.c.id == row.id))


def _add_index(ctx: ApplyContext, op: AddIndex) -> None:
    ctx.ops.create_index(op.name, table_name(op.entity), list(op.columns), unique=op.unique)


def _drop_index(ctx: ApplyContext, op: DropIndex) -> None:
    ctx.ops.drop_index(op.name, table_name=table_name(op.entity))


def _archive_entity(ctx: ApplyContext, op: ArchiveEntity) -> None:
    table = table_name(op.entity)
    referencing = [
        f"{e.name}.{f.name}"
        for e in ctx.new.entities.values()
        for f in e.definition.fields
        if f.opt("target") == op.entity and e.name != op.entity
    ]
    if referencing:
        raise PlanRefused(
            f"entity {op.entity} is still referenced by {', '.join(referencing)}; remove those fields first"
        )
    archived = archive_column_name(table, ctx.version)
    ce = ctx.current.entity(op.entity)
    # Index (and, on PostgreSQL, unique-constraint) names are unique per schema: free them, so
    # an entity of the same name can be created again (e.g. a plugin reinstalled).
    inspector = sa.inspect(ctx.conn)
    for ix in inspector.get_indexes(table):
        ctx.ops.drop_index(ix["name"], table_name=table)
    if not ctx.sqlite:
        for uq in inspector.get_unique_constraints(table):
            new_name = archive_column_name(uq["name"], ctx.version)
            ctx.conn.exec_driver_sql(
                f"ALTER TABLE {ctx.q(table)} RENAME CONSTRAINT {ctx.q(uq['name'])} TO {ctx.q(new_name)}"
            )
    for assoc in ce.associations.values():
        ctx.ops.rename_table(assoc.name, archive_column_name(assoc.name, ctx.version))
    ctx.ops.rename_table(table, archived)
    ctx.conn.execute(
        store.entity.update()
        .where(store.entity.c.name == op.entity)
        .values(archived_table=archived)
    )


_HANDLERS: dict[type[Operation], Any] = {
    AddField: _add_field,
    RestoreField: _restore_field,
    RenameField: _rename_field,
    ArchiveField: _archive_field,
    ConvertField: _convert_field,
    AlterField: _alter_field,
    AddIndex: _add_index,
    DropIndex: _drop_index,
    ArchiveEntity: _archive_entity,
}


def purge_archived(conn: sa.Connection, entity: str, field_name: str | None = None) -> int:
    """Drop archived columns (and association tables) for good. Returns how many fields."""
    t = store.archived_column
    q = sa.select(t).where(t.c.entity == entity)
    if field_name:
        q = q.where(t.c.field == field_name)
    rows = conn.execute(q).all()
    ops = _operations(conn)
    table = table_name(entity)
    existing = {c["name"] for c in sa.inspect(conn).get_columns(table)} if rows else set()
    cols = [pair[0] for r in rows for pair in json.loads(r.columns) if pair[0] in existing]
    if cols:
        if conn.dialect.name == "sqlite":
            with ops.batch_alter_table(table, recreate="always") as batch:
                for c in cols:
                    batch.drop_column(c)
        else:
            for c in cols:
                ops.drop_column(table, c)
    for r in rows:
        if r.association_table:
            ops.drop_table(r.association_table)
    conn.execute(t.delete().where(t.c.id.in_([r.id for r in rows])))
    return len(rows)


def entity_definition_for(snapshot: MetadataSnapshot, name: str) -> EntityDefinition:
    return snapshot.entity(name).definition
