"""INSERTs of many rows given as tuples: compiled once, sent with one ``executemany``.

:func:`rows.insert_many` takes dictionaries and converts every value through the columns'
bind processors; for a batch of thousands of records the dictionaries and the conversions cost
more than SQLite's work. A :class:`PreparedInsert` is compiled once per table, dialect and set
of columns and takes rows as tuples in its :attr:`~PreparedInsert.keys` order, already
converted by the caller with :func:`binder` (built once per column).
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Sequence
from operator import attrgetter, methodcaller
from typing import Any

import sqlalchemy as sa

#: table -> (dialect, columns) -> PreparedInsert. Weak: a table belongs to one metadata
#: snapshot and goes with it.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class PreparedInsert:
    """``INSERT INTO table (<keys>) VALUES (...)``, executed with tuples of values."""

    __slots__ = ("keys", "positional", "sql")

    def __init__(self, table: sa.Table, dialect: sa.Dialect, columns: Sequence[str]):
        compiled = table.insert().compile(dialect=dialect, column_keys=list(columns))
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        #: The order of the values in each row: the statement's own parameter order.
        self.keys: tuple[str, ...] = (
            tuple(compiled.positiontup or ()) if self.positional else tuple(columns)
        )
        if sorted(self.keys) != sorted(columns):
            raise ValueError(f"cannot prepare an INSERT of {list(columns)} into {table.name}")

    def execute(self, conn: sa.Connection, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.positional:
            conn.exec_driver_sql(self.sql, rows)
        else:
            keys = self.keys
            conn.exec_driver_sql(self.sql, [dict(zip(keys, row, strict=True)) for row in rows])


def prepared(table: sa.Table, dialect: sa.Dialect, columns: Sequence[str]) -> PreparedInsert:
    """The :class:`PreparedInsert` of these columns (made once per table, dialect, columns)."""
    cache = _PREPARED.get(table)
    if cache is None:
        cache = _PREPARED[table] = {}
    key = (dialect, tuple(sorted(columns)))
    found = cache.get(key)
    if found is None:
        found = cache[key] = PreparedInsert(table, dialect, columns)
    return found


# -- converting values as the columns' bind processors do ----------------------------------------


def binder(column: sa.Column, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """What the column's type does to a (non-null) value before the driver gets it, or None
    when it does nothing. Where the type's own processor formats dates and times with ``%``
    (SQLite's storage format), an equivalent ``isoformat`` call is used instead - checked
    against the processor on sample values, else the processor it is."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    for make, probes in _SHORTCUTS:
        fast = make(process)
        try:
            same = all(fast(p) == process(p) and type(fast(p)) is type(process(p)) for p in probes)
        except (TypeError, ValueError, AttributeError):
            same = False
        if same:
            return fast
    return process


def bind_column(convert: Callable[[Any], Any] | None, values: list) -> list:
    """``convert`` (a :func:`binder`) applied to each value that is not None; a whole column
    of one kind at C speed where the binder says how (its ``column``)."""
    if convert is None:
        return values
    if None in values:
        return [None if v is None else convert(v) for v in values]
    column = getattr(convert, "column", None)
    if column is not None and (out := column(values)) is not None:
        return out
    return list(map(convert, values))


_naive = attrgetter("tzinfo")


def _iso_datetime(process):
    def convert(value: Any) -> Any:
        if value.__class__ is dt.datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return process(value)

    iso = methodcaller("isoformat", " ", "microseconds")

    def column(values: list) -> list | None:
        if set(map(type, values)) == {dt.datetime} and not any(map(_naive, values)):
            return list(map(iso, values))
        return None

    convert.column = column
    return convert


def _iso_date(process):
    def convert(value: Any) -> Any:
        if value.__class__ is dt.date:
            return value.isoformat()
        return process(value)

    def column(values: list) -> list | None:
        if set(map(type, values)) == {dt.date}:
            return list(map(dt.date.isoformat, values))
        return None

    convert.column = column
    return convert


def _plain_bool(process):
    # The drivers take Python booleans as they are (SQLite stores them as 1 and 0).
    def convert(value: Any) -> Any:
        return int(value) if value.__class__ is bool else process(value)

    def column(values: list) -> list | None:
        return list(map(int, values)) if set(map(type, values)) == {bool} else None

    convert.column = column
    return convert


def _same_bool(process):
    def convert(value: Any) -> Any:
        return value if value.__class__ is bool else process(value)

    return convert


_SHORTCUTS = (
    (
        _iso_datetime,
        (
            dt.datetime(2024, 2, 29, 13, 5, 9),
            dt.datetime(1, 1, 1),
            dt.datetime(999, 12, 31, 23, 59, 59, 999999),
            dt.datetime(2026, 11, 23, 18, 0, 0, 120),
        ),
    ),
    (_iso_date, (dt.date(2024, 2, 29), dt.date(1, 1, 1), dt.date(999, 12, 31))),
    (_plain_bool, (True, False)),
    (_same_bool, (True, False)),
)
