"""Statements of the write path, compiled once and run with less work per execution.

On SQLite a statement runs in a few microseconds, while ``Connection.execute`` spends ten times
that around it: the compiled-cache lookup, building the execution context and its parameters,
the result set up, the events. A transition sends a dozen statements, so that overhead was a
third of its time. :class:`Prepared` keeps the compiled SQL, the order of its parameters and
their converters (the columns' own bind and result processors, so values are stored and read
exactly as SQLAlchemy would) and sends it straight to the connection's DBAPI connection.

On PostgreSQL (psycopg) the round trip dominates, but the same overhead is still a fifth of a
request that reads a record by id, so statements go straight to psycopg there too: the compiled
SQL with its named parameters (and the casts SQLAlchemy renders), converted by the columns' own
processors; the result processors are chosen from the type codes of the first result, as
SQLAlchemy's own do.

It does so only where nothing is lost: on SQLite or psycopg, inside a transaction SQLAlchemy
already began, with no statement or cursor events listening on the engine (tests and tracing
that count statements see every one, through SQLAlchemy) and no echo. Anywhere else the
statement goes through ``Connection.execute`` as before. A driver error is turned into
SQLAlchemy's exception by the connection's own handler, so callers catch
``sa.exc.IntegrityError`` as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa


class Prepared:
    """A Core statement (SELECT, INSERT, UPDATE or DELETE with bound parameters), compiled once
    per dialect and, for INSERT and UPDATE, per set of parameter names (the columns written).

    ``run`` returns the row count, ``rows`` the rows (tuples of converted values), ``first``
    the first row as a dict (column name -> value) or None."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Any):
        self.statement = statement
        self._plans: dict[tuple, _Plan | None] = {}

    # -- running ----------------------------------------------------------------------------------

    def run(self, conn: sa.Connection, params: Mapping[str, Any]) -> int:
        plan = self._plan_for(conn, params)
        if plan is None:
            return conn.execute(self.statement, params).rowcount
        return plan.execute(conn, params).rowcount

    def rows(self, conn: sa.Connection, params: Mapping[str, Any]) -> list[tuple]:
        plan = self._plan_for(conn, params)
        if plan is None:
            return [tuple(r) for r in conn.execute(self.statement, params)]
        cursor = plan.execute(conn, params)
        return plan.convert(cursor.fetchall())

    def first(self, conn: sa.Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        plan = self._plan_for(conn, params)
        if plan is None:
            row = conn.execute(self.statement, params).mappings().first()
            return None if row is None else dict(row)
        cursor = plan.execute(conn, params)
        row = cursor.fetchone()
        cursor.close()
        if row is None:
            return None
        return dict(zip(plan.names, plan.convert((row,))[0], strict=True))

    # -- compiling --------------------------------------------------------------------------------

    def _plan_for(self, conn: sa.Connection, params: Mapping[str, Any]) -> _Plan | None:
        if _direct(conn) is None:
            return None
        dialect = conn.dialect
        key = (dialect, tuple(params)) if self.statement.is_dml else (dialect,)
        try:
            return self._plans[key]
        except KeyError:
            plan = self._plans[key] = _Plan.build(self.statement, dialect, tuple(params))
            return plan


#: The drivers statements are sent to directly (SQLAlchemy's dialect driver names).
DIRECT_DRIVERS = frozenset({"pysqlite", "psycopg"})


def _direct(conn: sa.Connection) -> Any:
    """The DBAPI connection to send a statement to directly, or None when it must go through
    ``Connection.execute``. Decided once per transaction (remembered on the connection with
    the transaction it holds for): an event listener added in the middle of a transaction
    sees its statements from the next transaction on."""
    tx = conn._transaction
    if tx is None or not tx.is_active:
        return None
    memo = conn.__dict__.get("_xrm_direct")
    if memo is not None and memo[0] is tx:
        return memo[1]
    direct = None
    if conn.dialect.driver in DIRECT_DRIVERS and unobserved(conn):
        direct = conn.connection.driver_connection
    conn.__dict__["_xrm_direct"] = (tx, direct)
    return direct


def unobserved(conn: sa.Connection) -> bool:
    """No echo and no statement or cursor events on the connection: nobody would miss a
    statement sent to the driver directly."""
    if conn._echo:
        return False
    dispatch = conn.dispatch
    return not (
        dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
    )


class _Plan:
    """The compiled SQL of a statement for one dialect and set of parameters."""

    __slots__ = ("binds", "converters", "has_converters", "named", "names", "sql", "types")

    def __init__(self, sql, binds, names, converters, named=False, types=None):
        self.sql = sql
        #: (name, given, default value, bind processor or None) per parameter, in the order of
        #: the ``?`` (positional) or sent by name (``named``: psycopg's ``%(name)s``)
        self.binds = binds
        self.named = named
        self.names = names
        #: the result columns' types, while the converters wait for a first result (psycopg)
        self.types = types
        self.converters = converters
        self.has_converters = any(c is not None for c in converters)

    @classmethod
    def build(cls, statement: Any, dialect, keys: Sequence[str]) -> _Plan | None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        named = not compiled.positional
        if named:
            if dialect.driver != "psycopg" or compiled.escaped_bind_names:
                return None
            order = list(compiled.bind_names.values())
        elif compiled.positiontup is None:
            return None
        else:
            order = compiled.positiontup
        if compiled.literal_execute_params or compiled.post_compile_params:
            return None
        defaults: dict[str, Any] = {}
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            default = column.default if statement.is_insert else column.onupdate
            if default is None or not default.is_scalar:
                return None  # a Python-side default computed per execution: leave it to SA
            defaults[column.key] = default.arg
        binds = []
        for name in order:
            bind = compiled.binds[name]
            if bind.expanding:
                return None
            value = defaults.get(name, bind.effective_value if name not in keys else None)
            binds.append((name, name in keys, value, _bind_processor(bind.type, dialect)))
        names: tuple[str, ...] = ()
        converters: list[Any] = []
        types = None
        if statement.is_select:
            columns = list(statement.selected_columns)
            names = tuple(c.name for c in columns)
            if named:  # psycopg's result processors depend on the type code of the result
                types = tuple(c.type for c in columns)
            else:
                converters = [_result_processor(c.type, dialect) for c in columns]
        return cls(compiled.string, tuple(binds), names, converters, named, types)

    def execute(self, conn: sa.Connection, params: Mapping[str, Any]):
        values: Any = {} if self.named else []
        for name, given, default, process in self.binds:
            value = params[name] if given else default
            if process is not None and value is not None:
                value = process(value)
            if self.named:
                values[name] = value
            else:
                values.append(value)
        dbapi = conn.__dict__["_xrm_direct"][1]  # set by ``_direct`` for this transaction
        try:
            cursor = dbapi.execute(self.sql, values)
        except Exception as exc:
            conn._handle_dbapi_exception(exc, self.sql, values, None, None)
            raise  # not reached: the handler raises SQLAlchemy's exception
        if self.types is not None:
            self._converters_of(cursor, conn.dialect)
        return cursor

    def _converters_of(self, cursor, dialect) -> None:
        """Choose the result processors from the first result's type codes (psycopg)."""
        codes = [d.type_code for d in cursor.description]
        self.converters = [
            t.dialect_impl(dialect).result_processor(dialect, code)
            for t, code in zip(self.types, codes, strict=True)
        ]
        self.has_converters = any(c is not None for c in self.converters)
        self.types = None

    def convert(self, rows: list) -> list[tuple]:
        if not self.has_converters:
            return rows
        converters = self.converters
        return [
            tuple(
                v if c is None or v is None else c(v) for c, v in zip(converters, row, strict=True)
            )
            for row in rows
        ]


# SQLite keeps datetimes as text, ``YYYY-MM-DD HH:MM:SS.ffffff`` by default. SQLAlchemy's
# processors build and parse it with ``%`` formatting and a regular expression, a few
# microseconds each; a transition writes eight and reads four. ``isoformat`` and
# ``fromisoformat`` do the same in C for the values they are sure to treat alike (naive
# datetimes, the full default format); anything else goes to SQLAlchemy's own processor.


def _sqlite_datetime(type_: Any, dialect) -> Any:
    from sqlalchemy.dialects.sqlite import DATETIME

    impl = type_.dialect_impl(dialect)
    if (
        type(impl) is DATETIME
        and impl._storage_format == DATETIME._storage_format
        and impl._reg is None
    ):
        return impl
    return None


def _bind_processor(type_: Any, dialect) -> Any:
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None or _sqlite_datetime(type_, dialect) is None:
        return process
    datetime = dt.datetime

    def fast(value):
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return process(value)

    return fast


def _result_processor(type_: Any, dialect) -> Any:
    process = type_.dialect_impl(dialect).result_processor(dialect, None)
    if process is None or _sqlite_datetime(type_, dialect) is None:
        return process
    parse = dt.datetime.fromisoformat

    def fast(value):
        # Exactly the default format (26 characters, microseconds included), else SQLAlchemy.
        if type(value) is str and len(value) == 26 and value[10] == " ":
            try:
                return parse(value)
            except ValueError:
                pass
        return process(value)

    return fast
