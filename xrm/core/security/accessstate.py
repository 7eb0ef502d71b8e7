"""The access token (``xrm_access_state``): replaced by database triggers whenever anything
access is made from changes (see :mod:`xrm.core.security.accesscache`).

It is read once per request. The statement that authenticates the caller reads it as a scalar
subquery (:func:`token_column`) and notes it on the connection (:func:`note_token`); the access
cache then takes it (:func:`read_token`) instead of sending a statement of its own, as the
metadata version is read (:func:`xrm.metadata.store.note_version`)."""

from __future__ import annotations

import sqlalchemy as sa

from ...metadata.statements import Prepared
from ...metadata.store import note_for_transaction, take_noted

#: Which set of triggers ``accesscache.install`` puts in place; a database whose ``watching``
#: differs (an older set, or none) is not trusted and access is resolved on every call.
TRIGGERS_VERSION = 1

ACCESS_METADATA = sa.MetaData()

access_state = sa.Table(
    "xrm_access_state",
    ACCESS_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    #: Replaced by a random number whenever anything access is made from changes.
    sa.Column("token", sa.BigInteger, nullable=False),
    #: The set of triggers in place (TRIGGERS_VERSION), 0 while incomplete.
    sa.Column("watching", sa.Integer, nullable=False),
)

#: The token when the database is watched by the current triggers, else NULL (nothing may be
#: cached).
TOKEN_QUERY = sa.select(
    sa.case(
        (access_state.c.watching == TRIGGERS_VERSION, access_state.c.token), else_=sa.null()
    ).label("token")
).where(access_state.c.id == 1)
_TOKEN = Prepared(TOKEN_QUERY)

#: ``conn.info`` key of the token read by another statement of the current transaction.
TOKEN_NOTED = "xrm.access.token_noted"
#: What :func:`read_token` gets when nothing was noted (a noted token may be None).
_NOT_NOTED = object()


def token_column() -> sa.ScalarSelect:
    """The token as a scalar subquery, for the statement that authenticates the caller."""
    return TOKEN_QUERY.scalar_subquery()


def note_token(conn: sa.Connection, token: int | None) -> None:
    """Remember ``token``, read by a statement of ``conn``'s current transaction before any
    access query, for the access cache's next look in this transaction. Used once."""
    note_for_transaction(conn, TOKEN_NOTED, token)


def read_token(conn: sa.Connection) -> int | None:
    """The token noted in this transaction (then forgotten), else read now; None when access
    may not be cached (no state row, or triggers not all in place)."""
    noted = take_noted(conn, TOKEN_NOTED, missing=_NOT_NOTED)
    if noted is not _NOT_NOTED:
        return noted
    found = _TOKEN.rows(conn, {})
    return found[0][0] if found else None
