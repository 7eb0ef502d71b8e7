"""Resolved access is kept across transactions and dropped when anything it is made from
changes, whoever changes it (xrm.core.security.accesscache)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM, Actor
from xrm.core.records.errors import RecordNotFound
from xrm.core.security import grants
from xrm.core.security.access import AccessDenied
from xrm.core.security.accesscache import WATCHED_TABLES, access_state
from xrm.metadata.database import create_engine

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "revenue": {"type": "integer"}},
}
CLERK = Actor(user_id=7, username="clerk", roles=("Clerk",))


@pytest.fixture
def platform(make_app):
    p = make_app().extensions["xrm"]
    p.registry.apply_documents([ACCOUNT])
    with p.engine.begin() as conn:
        grants.grant(conn, "Clerk", "crm.account", ["read"])
    return p


@pytest.fixture
def other(database_url):
    """Another engine on the same database: another process, as far as the cache can tell."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def can_create(p) -> bool:
    with p.engine.begin() as conn:
        return p.records.access(conn, CLERK).can("crm.account", "create")


def token(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(access_state.c.token)).scalar_one()


def test_the_database_is_watched_once_the_application_started(platform):
    with platform.engine.connect() as conn:
        assert conn.execute(sa.select(access_state.c.watching)).scalar_one() == 1


def test_a_second_resolve_reads_only_the_token(platform):
    assert not can_create(platform)
    sent = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    sa.event.listen(platform.engine, "before_cursor_execute", record)
    try:
        assert not can_create(platform)
    finally:
        sa.event.remove(platform.engine, "before_cursor_execute", record)
    queries = [s for s in sent if s.strip().upper().startswith("SELECT")]
    assert len(queries) == 1 and "xrm_access_state" in queries[0]


def test_a_grant_made_through_another_engine_is_seen_by_the_next_transaction(platform, other):
    assert not can_create(platform)  # now kept
    with other.begin() as conn:
        grants.grant(conn, "Clerk", "crm.account", ["create"])
    assert can_create(platform)
    with other.begin() as conn:
        grants.revoke(conn, "Clerk", "crm.account", ["create"])
    assert not can_create(platform)


def test_a_scope_set_through_another_engine_hides_records_at_once(platform, other):
    with platform.engine.begin() as conn:
        theirs = platform.records.create(
            conn, SYSTEM, "crm.account", {"name": "Theirs", "owner_id": 99}
        )["id"]
        assert platform.records.get(conn, CLERK, "crm.account", theirs)["name"] == "Theirs"
    with other.begin() as conn:
        grants.set_scope(conn, "Clerk", "crm.account", "own")
    with platform.engine.begin() as conn, pytest.raises(RecordNotFound):
        platform.records.get(conn, CLERK, "crm.account", theirs)


def test_a_field_secured_through_another_engine_is_hidden_at_once(platform, other):
    with platform.engine.begin() as conn:
        rid = platform.records.create(conn, SYSTEM, "crm.account", {"name": "A", "revenue": 5})[
            "id"
        ]
        assert platform.records.get(conn, CLERK, "crm.account", rid)["revenue"] == 5
    with other.begin() as conn:
        grants.secure_field(conn, "Sales", "crm.account", "revenue", read=True, write=True)
    with platform.engine.begin() as conn:
        assert "revenue" not in platform.records.get(conn, CLERK, "crm.account", rid)


def test_a_grant_through_flask_appbuilders_own_session_is_seen(platform, make_app):
    app = make_app()  # Flask-AppBuilder's security manager, with its own engine and session
    assert not can_create(platform)
    with app.app_context():
        sm = app.appbuilder.sm
        pv = sm.add_permission_view_menu("can_create", "Entity:crm.account")
        sm.add_permission_role(sm.find_role("Clerk"), pv)
    assert can_create(platform)


def test_a_grant_rolled_back_leaves_nothing_behind(platform, other):
    assert not can_create(platform)
    with platform.engine.connect() as conn, conn.begin() as tx:
        grants.grant(conn, "Clerk", "crm.account", ["create"])
        assert platform.records.access(conn, CLERK).can("crm.account", "create")
        tx.rollback()
    assert not can_create(platform)
    with other.begin() as conn:  # any later change: its token is not the rolled-back one
        grants.set_scope(conn, "Nobody", "crm.account", "own")
    assert not can_create(platform)


def _team(app, *names):
    """Users ``names`` (Clerk role) in one Flask-AppBuilder group; their ids."""
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role("Clerk")
        users = [
            sm.add_user(n, "F", "L", f"{n}@example.org", role, password="pw-not-used-1")
            for n in names
        ]
        sm.add_group("team", "Team", "", users=users[:1])
        return [u.id for u in users]


def test_a_team_member_added_through_another_engine_is_seen(platform, make_app, other):
    me, colleague = _team(make_app(), "me", "colleague")
    actor = Actor(user_id=me, username="me", roles=("Clerk",))
    with platform.engine.begin() as conn:
        assert platform.records.access(conn, actor).team == (me,)
    with other.begin() as conn:
        group = conn.execute(sa.text("SELECT id FROM ab_group")).scalar_one()
        conn.execute(
            sa.text("INSERT INTO ab_user_group (id, user_id, group_id) VALUES (99, :u, :g)"),
            {"u": colleague, "g": group},
        )
    with platform.engine.begin() as conn:
        assert platform.records.access(conn, actor).team == tuple(sorted((me, colleague)))


@pytest.mark.parametrize("table", WATCHED_TABLES)
def test_every_change_to_a_table_access_is_made_from_changes_the_token(
    platform, make_app, other, table
):
    _team(make_app(), "me")
    with other.begin() as conn:  # a row in every watched table
        grants.set_scope(conn, "Clerk", "crm.account", "all")
        grants.secure_field(conn, "Clerk", "crm.account", "revenue", read=True, write=True)
    for statement in (
        'UPDATE "{t}" SET id = id',  # changes nothing: still a change the trigger reports
        'DELETE FROM "{t}" WHERE id = -1' if table.startswith("ab_") else None,
    ):
        if statement is None:
            continue
        before = token(platform.engine)
        with other.begin() as conn:
            if not table.startswith("ab_"):
                conn.execute(sa.text(f'UPDATE "{table}" SET role = role'))
            else:
                conn.execute(sa.text(statement.format(t=table)))
        changed = token(platform.engine) != before
        # PostgreSQL's triggers fire per statement, SQLite's per row (none deleted: none fire)
        assert changed or ("DELETE" in statement and other.dialect.name == "sqlite")


def test_without_the_triggers_access_is_resolved_every_time(platform, other):
    with other.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER xrm_access_changed ON ab_permission_view_role")
        else:
            for event in ("insert", "update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER xrm_access_ab_permission_view_role_{event}")
        conn.execute(sa.update(access_state).values(watching=0))
    assert not can_create(platform)
    with other.begin() as conn:
        grants.grant(conn, "Clerk", "crm.account", ["create"])
    assert can_create(platform)


def test_administrators_need_no_access_read(platform):
    admin = Actor(user_id=1, username="admin", roles=("Admin",), is_admin=True)
    with platform.engine.begin() as conn:
        access = platform.records.access(conn, admin)
    assert access.unrestricted and access.can("crm.account", "delete")
    with pytest.raises(AccessDenied), platform.engine.begin() as conn:
        platform.records.access(conn, CLERK).require("crm.account", "delete")


def test_a_request_reads_the_token_with_the_actor_and_still_sees_a_change_at_once(make_app, other):
    """The statement that authenticates the caller carries the access token: a non-admin's
    GET sends two statements (actor, record) and no token read of its own, yet a grant
    revoked through another engine applies to the very next request."""
    app = make_app()
    p = app.extensions["xrm"]
    p.registry.apply_documents([ACCOUNT])
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_role("Clerk")
        sm.add_user("clerk", "C", "L", "clerk@example.org", [sm.find_role("Clerk")], "pw-clerk-1")
    with p.engine.begin() as conn:
        grants.grant(conn, "Clerk", "crm.account", ["read"])
        rid = p.records.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
    c = app.test_client()
    res = c.post(
        "/api/v1/security/login",
        json={"username": "clerk", "password": "pw-clerk-1", "provider": "db"},
    )
    h = {"Authorization": f"Bearer {res.json['access_token']}"}
    assert c.get(f"/api/v1/data/crm.account/{rid}", headers=h).status_code == 200  # now kept
    sent = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    sa.event.listen(p.engine, "before_cursor_execute", record)
    try:
        assert c.get(f"/api/v1/data/crm.account/{rid}", headers=h).json["name"] == "Acme"
    finally:
        sa.event.remove(p.engine, "before_cursor_execute", record)
    selects = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects
    assert "xrm_access_state" in selects[0] and "ab_user" in selects[0]
    with other.begin() as conn:
        grants.revoke(conn, "Clerk", "crm.account", ["read"])
    assert c.get(f"/api/v1/data/crm.account/{rid}", headers=h).status_code == 403
