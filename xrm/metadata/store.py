"""The platform's own tables: definitions with history, the version counter, archives, counters.

Definitions are stored as canonical JSON text (exact round trip on every database).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from .statements import Prepared

SYSTEM_METADATA = sa.MetaData()

metadata_state = sa.Table(
    "xrm_metadata_state",
    SYSTEM_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

#: The layers a definition is built from: the base document (from a plugin or an
#: administrator), extensions contributed by other plugins, the administrator's customisation.
entity_layer = sa.Table(
    "xrm_entity_layer",
    SYSTEM_METADATA,
    sa.Column("entity", sa.String(60), primary_key=True),
    sa.Column("layer", sa.String(80), primary_key=True),
    sa.Column("source", sa.String(80), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

#: The effective (merged) definition of each live entity.
entity = sa.Table(
    "xrm_entity",
    SYSTEM_METADATA,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("source", sa.String(80), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("metadata_version", sa.Integer, nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("archived_table", sa.String(80), nullable=True),
)

#: Every revision of every definition, with the plan that produced it.
entity_history = sa.Table(
    "xrm_entity_history",
    SYSTEM_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(60), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("metadata_version", sa.Integer, nullable=False),
    sa.Column("definition", sa.Text, nullable=True),
    sa.Column("layers", sa.Text, nullable=False),
    sa.Column("operations", sa.Text, nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
    sa.Column("applied_by", sa.String(100), nullable=True),
)

#: Columns (or association tables) of removed and converted fields, kept until purged.
archived_column = sa.Table(
    "xrm_archived_field",
    SYSTEM_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(60), nullable=False, index=True),
    sa.Column("field", sa.String(60), nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("field_definition", sa.Text, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),
    sa.Column("association_table", sa.String(80), nullable=True),
    sa.Column("metadata_version", sa.Integer, nullable=False),
    sa.Column("archived_at", sa.DateTime, nullable=False),
)

#: Reusable option sets (shared lists of choices), resolved into fields' enums when planning.
option_set = sa.Table(
    "xrm_option_set",
    SYSTEM_METADATA,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

#: Autonumber counters: one row per (field, rendered prefix) so a counter can restart yearly.
sequence = sa.Table(
    "xrm_sequence",
    SYSTEM_METADATA,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def dumps(doc: Any) -> str:
    from .model import thaw

    # Not sorted: the order of properties is the order of fields.
    return json.dumps(thaw(doc), ensure_ascii=False)


def install(conn: sa.Connection) -> None:
    """Create the system tables if missing and the version row."""
    SYSTEM_METADATA.create_all(conn, checkfirst=True)
    if (
        conn.execute(sa.select(metadata_state.c.version).where(metadata_state.c.id == 1)).first()
        is None
    ):
        conn.execute(metadata_state.insert().values(id=1, version=0, updated_at=utcnow()))


def read_version(conn: sa.Connection) -> int:
    found = _VERSION.rows(conn, {})
    if len(found) != 1:
        raise sa.exc.NoResultFound(f"{len(found)} metadata version rows, expected one")
    return found[0][0]


VERSION_QUERY = sa.select(metadata_state.c.version).where(metadata_state.c.id == 1)
#: Read by every transaction: compiled once (see :mod:`xrm.metadata.statements`).
_VERSION = Prepared(VERSION_QUERY)


#: ``conn.info`` key of the snapshot checked in the connection's current transaction
#: (:meth:`MetadataRegistry.snapshot`).
SNAPSHOT_MEMO = "xrm.metadata.snapshot"
#: ``conn.info`` key of a version read by another statement of the current transaction
#: (:func:`note_version`).
VERSION_NOTED = "xrm.metadata.version_noted"


def version_column() -> sa.ScalarSelect:
    """The version as a scalar subquery, to add to a statement a request sends anyway (the
    caller's user and roles): the version then costs no statement of its own. Hand the value
    to :func:`note_version` on the same connection."""
    return VERSION_QUERY.scalar_subquery()


def note_for_transaction(conn: sa.Connection, key: str, value: Any) -> None:
    """Remember ``value`` under ``key`` for the rest of ``conn``'s current transaction: a value
    one statement read along with its own (a scalar subquery), so that whoever would read it
    next in this transaction takes it instead (:func:`take_noted`)."""
    conn.info[key] = (conn.get_transaction(), value)


def take_noted(conn: sa.Connection, key: str, missing: Any = None) -> Any:
    """The value noted under ``key`` in ``conn``'s current transaction (then forgotten), or
    ``missing`` when none was, or it was noted in another transaction."""
    noted = conn.info.pop(key, None)
    if noted is None or noted[0] is None or noted[0] is not conn.get_transaction():
        return missing
    return noted[1]


def note_version(conn: sa.Connection, version: int) -> None:
    """Remember ``version``, read by a statement of ``conn``'s current transaction, so that the
    registry's next version check in this transaction uses it instead of reading it again.

    Same transaction, same guarantee: the value was read after the request began, exactly as
    the registry's own read would have been (on SQLite the transaction's read snapshot, on
    PostgreSQL READ COMMITTED the state at that statement). Used once, then forgotten."""
    note_for_transaction(conn, VERSION_NOTED, version)


def take_noted_version(conn: sa.Connection) -> int | None:
    """The version noted in ``conn``'s current transaction (and forget it), or None."""
    return take_noted(conn, VERSION_NOTED)


def bump_version(conn: sa.Connection, expected: int) -> int:
    """Increment the version if it is still ``expected`` (compare-and-set)."""
    conn.info.pop(SNAPSHOT_MEMO, None)
    conn.info.pop(VERSION_NOTED, None)
    res = conn.execute(
        metadata_state.update()
        .where(metadata_state.c.id == 1, metadata_state.c.version == expected)
        .values(version=expected + 1, updated_at=utcnow())
    )
    if res.rowcount != 1:
        from .errors import StalePlan

        raise StalePlan("the metadata changed while this change was being applied; plan again")
    return expected + 1


def lock_version(conn: sa.Connection) -> int:
    """Read the version, holding a write lock on it until the transaction ends."""
    q = VERSION_QUERY
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    else:
        # SQLite: a no-op write takes the database write lock now, not at the first DDL.
        conn.execute(metadata_state.update().where(metadata_state.c.id == 1).values(id=1))
    return conn.execute(q).scalar_one()
