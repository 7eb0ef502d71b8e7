"""Resolved access kept across transactions, invalidated by the database itself.

Resolving what an actor may do (:func:`~xrm.core.security.access.resolve_access`) reads grants,
record scopes, field permissions and team members, which change rarely, at the start of every
request and transition: on SQLite the most expensive statement of a transition. An
:class:`AccessCache` keeps the result per (roles, user) and asks the database on every call
whether anything it was made from may have changed, with one small read.

The signal is a token in ``xrm_access_state`` that database triggers on every table access is
made from (Flask-AppBuilder's roles, permissions, view menus, their links and the group
memberships; the record-scope and field-permission tables) replace in the changing transaction.
Triggers see every change, whoever makes it: this platform's admin API, Flask-AppBuilder's own
views (its ORM session, another engine), the CLI, another process or host, plain SQL. The token
is a fresh random 63-bit number rather than a counter, so a change that is rolled back can never
leave behind a value that a later, committed change would reuse (a counter would come back to
the same number, and a result cached inside the rolled-back transaction would look current).

Order matters on PostgreSQL (read committed): the token is read *before* the access query, so a
change committed between the two is at worst cached under the older token, which the next read
no longer matches. Nothing is cached unless ``install`` has put every trigger in place (the
``watching`` column says which set of triggers the database has); without them every call runs
the query, as before.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from ..context import Actor
from .access import Access, resolve_access
from .accessstate import ACCESS_METADATA, TRIGGERS_VERSION, access_state, read_token

#: The tables :func:`resolve_access` reads (and one whose deletion cascades into them).
WATCHED_TABLES = (
    "ab_permission",
    "ab_view_menu",
    "ab_permission_view",
    "ab_permission_view_role",
    "ab_role",
    "ab_group",
    "ab_user_group",
    "xrm_record_scope",
    "xrm_field_permission",
)

#: Resolved access kept per cache, at most; beyond it the cache starts over.
MAX_ENTRIES = 4096


class AccessCache:
    """Per process (one per record service): (roles, user id) -> resolved access, valid while
    the database's access token is the one it was resolved under."""

    def __init__(self) -> None:
        self._token: int | None = None
        self._entries: dict[tuple, Access] = {}
        self._lock = threading.Lock()

    def resolve(self, conn: sa.Connection, actor: Actor) -> Access:
        if actor.is_admin:
            return Access(actor=actor)
        token = read_token(conn)  # usually noted by the statement that authenticated the actor
        if token is None:
            return resolve_access(conn, actor)  # no triggers: nothing may be kept
        key = (frozenset(actor.roles), actor.user_id)
        with self._lock:
            if token != self._token:
                self._token, self._entries = token, {}
            found = self._entries.get(key)
        if found is not None:
            return Access(
                actor=actor,
                grants=found.grants,
                scopes=found.scopes,
                secured=found.secured,
                team=found.team,
                _memo=found._memo,  # its answers depend on the fields above only
            )
        access = resolve_access(conn, actor)
        with self._lock:
            if token == self._token:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries = {}
                self._entries[key] = access
        return access


# -- installing the triggers ----------------------------------------------------------------------


def install(conn: sa.Connection) -> bool:
    """Create ``xrm_access_state`` and the triggers on every watched table that exists; mark
    the database as watched only when all of them are in place. Idempotent. Returns whether
    access may be cached on this database."""
    ACCESS_METADATA.create_all(conn, checkfirst=True)
    if conn.execute(sa.select(access_state.c.id).where(access_state.c.id == 1)).first() is None:
        conn.execute(access_state.insert().values(id=1, token=0, watching=0))
    present = set(sa.inspect(conn).get_table_names())
    missing = [t for t in WATCHED_TABLES if t not in present]
    if conn.dialect.name == "postgresql":
        _install_postgresql(conn, [t for t in WATCHED_TABLES if t in present])
    else:
        _install_sqlite(conn, [t for t in WATCHED_TABLES if t in present])
    watching = 0 if missing else TRIGGERS_VERSION
    conn.execute(
        access_state.update()
        .where(access_state.c.id == 1, access_state.c.watching != watching)
        .values(watching=watching)
    )
    return not missing


def _install_sqlite(conn: sa.Connection, tables: list[str]) -> None:
    for table in tables:
        for event in ("INSERT", "UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f'CREATE TRIGGER IF NOT EXISTS "xrm_access_{table}_{event.lower()}" '
                f'AFTER {event} ON "{table}" BEGIN '
                "UPDATE xrm_access_state SET token = random() WHERE id = 1; END"
            )


def _install_postgresql(conn: sa.Connection, tables: list[str]) -> None:
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
    quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
    function = conn.execute(
        sa.text(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = :schema AND p.proname = 'xrm_access_changed'"
        ),
        {"schema": schema},
    ).first()
    # Created only when missing, each in a block that lets a process starting at the same
    # moment win the race (its function or trigger is the same).
    if function is None:
        conn.exec_driver_sql(
            "DO $outer$ BEGIN "
            f"CREATE FUNCTION {quoted}.xrm_access_changed() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"UPDATE {quoted}.xrm_access_state "
            "SET token = floor(random() * 9007199254740991)::bigint WHERE id = 1; "
            "RETURN NULL; END $$; "
            "EXCEPTION WHEN duplicate_function THEN NULL; END $outer$"
        )
    have = set(
        conn.execute(
            sa.text(
                "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                "WHERE trigger_schema = :schema AND trigger_name = 'xrm_access_changed'"
            ),
            {"schema": schema},
        ).scalars()
    )
    for table in tables:
        if table in have:
            continue
        conn.exec_driver_sql(
            "DO $outer$ BEGIN "
            "CREATE TRIGGER xrm_access_changed "
            f'AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quoted}."{table}" '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {quoted}.xrm_access_changed(); "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $outer$"
        )
