"""Field values <-> table columns, and INSERTs of many rows in one statement.

The same conversions as :meth:`CompiledEntity.to_row` and :meth:`CompiledEntity.dump`, using
the column names each :class:`CompiledField` already holds: the field types' own ``to_row`` and
``from_row`` rebuild the column list (with its SQLAlchemy types) on every call, which is most of
the cost of a row when there are 100,000 of them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ...metadata.fieldtypes import FIELD_TYPES
from ...metadata.statements import Prepared

_DATETIME = FIELD_TYPES["datetime"]


def to_row(ce: CompiledEntity, values: Mapping[str, Any]) -> dict[str, Any]:
    """Field values -> column values (association fields left out), as ``ce.to_row``."""
    row: dict[str, Any] = {}
    fields = ce.fields
    for key, value in values.items():
        cf = fields[key]
        columns = cf.columns
        if len(columns) == 1:
            row[columns[0]] = value
        elif not columns:
            continue
        elif value is None:
            row.update(dict.fromkeys(columns))
        else:
            row.update(zip(columns, value, strict=True))
    return row


#: table -> its compare-and-swap UPDATE (weak: the table goes with its metadata snapshot).
_UPDATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def update_statement(table: sa.Table) -> sa.Update:
    """``UPDATE table SET <the columns of the parameters> WHERE id = :_xrm_id AND row_version
    = :_xrm_version``, built once per table: the columns set are those of the parameter
    dictionary it is executed with (SQLAlchemy caches one compiled form per set of keys)."""
    found = _UPDATES.get(table)
    if found is None:
        found = _UPDATES[table] = table.update().where(
            table.c.id == sa.bindparam("_xrm_id"),
            table.c.row_version == sa.bindparam("_xrm_version"),
        )
    return found


#: table -> its compare-and-swap UPDATE as a :class:`Prepared` statement (weak, as above).
_PREPARED_UPDATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def prepared_update(table: sa.Table) -> Prepared:
    """:func:`update_statement` compiled once per set of columns, for one record at a time."""
    found = _PREPARED_UPDATES.get(table)
    if found is None:
        found = _PREPARED_UPDATES[table] = Prepared(update_statement(table))
    return found


#: table -> its entity's dumper (weak: the table goes with its metadata snapshot).
_DUMPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def dumper(ce: CompiledEntity) -> Callable[..., dict[str, Any]]:
    """A function turning a row (column mapping) into the JSON record, as ``ce.dump`` does.
    Its optional second argument, ``system``: the system fields already dumped (the same for
    every row of a batch), to use instead of the row's. Made once per compiled entity."""
    found = _DUMPERS.get(ce.table)
    if found is None:
        found = _DUMPERS[ce.table] = _dumper(ce)
    return found


def _dumper(ce: CompiledEntity) -> Callable[..., dict[str, Any]]:
    layout = [
        (
            cf.name,
            cf.columns[0] if len(cf.columns) == 1 else None,
            cf.columns,
            cf.type.dump,
            cf.spec,
        )
        for cf in ce.fields.values()
        if cf.columns
    ]

    def dump(row: Mapping[str, Any], system: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": row["id"]}
        get = row.get
        for name, column, columns, to_json, spec in layout:
            if column is not None:
                out[name] = to_json(spec, get(column))
            else:
                out[name] = to_json(spec, tuple(get(c) for c in columns))
        if system is not None:
            out.update(system)
            return out
        for key in ("created_at", "updated_at"):
            if key in row:
                out[key] = _DATETIME.dump(None, row[key])
        for key in ("created_by", "updated_by", "owner_id", "row_version"):
            if key in row:
                out[key] = row[key]
        return out

    return dump


#: table -> its entity's re-dumper (weak, as above).
_REDUMPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def redumper(ce: CompiledEntity) -> Callable[..., dict[str, Any]]:
    """A function ``(record, row, written)``: the JSON record ``record`` (as :func:`dumper`
    made it from a row) after an UPDATE wrote the columns ``written``; ``row`` is the whole row
    as it now is. Only the fields with a written column are dumped again, the result is the
    dump of ``row``. Made once per compiled entity."""
    found = _REDUMPERS.get(ce.table)
    if found is None:
        found = _REDUMPERS[ce.table] = _redumper(ce)
    return found


def _redumper(ce: CompiledEntity) -> Callable[..., dict[str, Any]]:
    by_column: dict[str, tuple] = {}
    for cf in ce.fields.values():
        for column in cf.columns:
            one = cf.columns[0] if len(cf.columns) == 1 else None
            by_column[column] = (cf.name, one, cf.columns, cf.type.dump, cf.spec)

    def redump(
        record: Mapping[str, Any], row: Mapping[str, Any], written: Iterable[str]
    ) -> dict[str, Any]:
        out = dict(record)
        for key in written:
            entry = by_column.get(key)
            if entry is not None:
                name, column, columns, to_json, spec = entry
                if column is not None:
                    out[name] = to_json(spec, row.get(column))
                else:
                    out[name] = to_json(spec, tuple(row.get(c) for c in columns))
            elif key in ("created_at", "updated_at"):
                out[key] = _DATETIME.dump(None, row[key])
            elif key in ("created_by", "updated_by", "owner_id", "row_version"):
                out[key] = row[key]
        return out

    return redump


# -- many rows in one statement ---------------------------------------------------------------


def insert_many(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """INSERT ``rows`` (dicts with the same keys), each completed with ``constants``.

    The statement is compiled by SQLAlchemy once and sent to the driver's ``executemany``
    with the values converted by the columns' own types (the constants converted once):
    SQLAlchemy's per-row parameter handling would otherwise cost more than the insert itself.
    """
    if not rows:
        return
    dialect = conn.dialect
    constants = dict(constants or {})
    keys = list(rows[0])
    compiled, processors = _statement(table, dialect, (*keys, *constants), tuple(keys))
    fixed = {k: _converted(table.c[k], dialect, v) for k, v in constants.items()}
    params: list[Any] = []
    for row in rows:
        values = {**row, **fixed}
        for k, process in processors:
            if values[k] is not None:
                values[k] = process(values[k])
        params.append(values)
    if compiled.positional:
        order = compiled.positiontup or []
        pick = itemgetter(*order) if len(order) > 1 else (lambda v: (v[order[0]],))
        params = [pick(values) for values in params]
    conn.exec_driver_sql(compiled.string, params)


#: table -> (dialect, columns) -> compiled INSERT and bind processors. Weak: a table belongs
#: to one metadata snapshot and goes with it.
_STATEMENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _statement(table: sa.Table, dialect, column_keys: tuple[str, ...], converted: tuple[str, ...]):
    """The compiled INSERT of these columns and the bind processors of ``converted`` ones,
    made once per table and set of columns."""
    cache = _STATEMENTS.setdefault(table, {})
    found = cache.get((dialect, column_keys))
    if found is None:
        compiled = table.insert().compile(dialect=dialect, column_keys=list(column_keys))
        processors = [
            (k, p)
            for k in converted
            if (p := table.c[k].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        found = cache[(dialect, column_keys)] = (compiled, processors)
    return found


def insert_returning_ids(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    constants: Mapping[str, Any] | None = None,
) -> list[int]:
    """INSERT ``rows`` as :func:`insert_many` and return their new ids, in row order.

    The ids are drawn before the INSERT rather than read back with RETURNING: SQLite does not
    promise RETURNING rows in insert order (SQLAlchemy would send one statement per row), and
    PostgreSQL plans a sorted multi-row RETURNING far slower than a plain executemany. A single
    row is inserted with RETURNING, which is exact under any concurrency.
    """
    if len(rows) == 1:
        statement = _INSERT_ONE.get(table)
        if statement is None:
            statement = _INSERT_ONE[table] = table.insert().returning(table.c.id)
        return [conn.execute(statement, {**rows[0], **(constants or {})}).scalar_one()]
    ids = _new_ids(conn, table, len(rows))
    insert_many(
        conn, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)], constants
    )
    return ids


#: table -> INSERT ... RETURNING id, for one row (built once per table)
_INSERT_ONE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _new_ids(conn: sa.Connection, table: sa.Table, count: int) -> list[int]:
    if conn.dialect.name == "postgresql":
        # The column's own sequence: unique under any concurrency, as a default id would be.
        sequence = sa.func.pg_get_serial_sequence(
            conn.dialect.identifier_preparer.format_table(table), "id"
        )
        draw = sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))
        return list(conn.execute(draw).scalars())
    # SQLite has one writer at a time and numbers a new row max(id) + 1: the ids are the ones
    # SQLite would choose. Should another connection insert in between, the primary key
    # refuses the batch (an IntegrityError, for the caller to handle).
    start = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    return list(range(start + 1, start + 1 + count))


def _converted(column: sa.Column, dialect, value: Any) -> Any:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if value is None or process is None else process(value)
