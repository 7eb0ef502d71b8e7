"""The per-request metadata version check rides on the statement that loads the caller's user
and roles: an authenticated request sends no version statement of its own, and a change applied
through another process (here: another engine and registry on the same database) is still used
by the very next request."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from xrm.core.security import grants
from xrm.metadata import store
from xrm.metadata.database import create_engine
from xrm.metadata.registry import MetadataRegistry

ACCOUNT = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def statements_of(engine: sa.Engine):
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def reads_the_version(statement: str) -> bool:
    return "xrm_metadata_state" in statement


@pytest.fixture
def other_process(database_url):
    """A second registry on its own engine: what another worker or the CLI applies with."""
    engine = create_engine(database_url)
    yield MetadataRegistry(engine)
    engine.dispose()


@pytest.fixture
def account_app(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    return app


def user_token(app, username: str, role: str = "Public") -> str:
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(username, "U", "Ser", f"{username}@example.org", sm.find_role(role), "pw-12345")
    res = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": "pw-12345", "provider": "db"},
    )
    assert res.status_code == 200, res.json
    return res.json["access_token"]


@pytest.mark.parametrize(
    "request_of",
    [
        lambda c, h: c.get("/api/v1/data/crm.account", headers=h),
        lambda c, h: c.get("/api/v1/data/crm.account/1", headers=h),
        lambda c, h: c.post("/api/v1/data/crm.account", json={"name": "B"}, headers=h),
        lambda c, h: c.get("/api/v1/meta/entities", headers=h),
    ],
    ids=["list", "get", "create", "meta"],
)
def test_an_authenticated_request_sends_no_version_statement_of_its_own(
    account_app, admin_token, request_of
):
    client = account_app.test_client()
    assert (
        client.post(
            "/api/v1/data/crm.account", json={"name": "A"}, headers=auth(admin_token)
        ).status_code
        == 201
    )
    engine = account_app.extensions["xrm"].engine
    with statements_of(engine) as sent:
        res = request_of(client, auth(admin_token))
    assert res.status_code in (200, 201), res.json
    version_reads = [s for s in sent if reads_the_version(s)]
    # One statement reads the version: the one that loads the caller's user and roles.
    assert len(version_reads) == 1, sent
    assert "ab_user" in version_reads[0]


def test_a_non_administrator_also_gets_the_version_with_the_user(account_app):
    token = user_token(account_app, "joe")
    with account_app.extensions["xrm"].engine.begin() as conn:
        grants.grant(conn, "Public", "crm.account", ["read"])
    with statements_of(account_app.extensions["xrm"].engine) as sent:
        res = account_app.test_client().get("/api/v1/data/crm.account", headers=auth(token))
    assert res.status_code == 200, res.json
    assert [s for s in sent if reads_the_version(s)] == [
        s for s in sent if "ab_user" in s and reads_the_version(s)
    ]
    assert len([s for s in sent if reads_the_version(s)]) == 1


def test_a_field_added_by_another_process_is_used_on_the_very_next_request(
    account_app, admin_token, other_process
):
    client = account_app.test_client()
    rid = client.post(
        "/api/v1/data/crm.account", json={"name": "A"}, headers=auth(admin_token)
    ).json["id"]
    before = account_app.extensions["xrm"].registry.current.version
    assert (
        "city" not in client.get(f"/api/v1/data/crm.account/{rid}", headers=auth(admin_token)).json
    )

    doc = {**ACCOUNT, "properties": {**ACCOUNT["properties"], "city": {"type": "string"}}}
    assert other_process.apply_documents([doc]) == before + 1
    assert account_app.extensions["xrm"].registry.current.version == before  # not told

    got = client.get(f"/api/v1/data/crm.account/{rid}", headers=auth(admin_token))
    assert got.status_code == 200
    assert "city" in got.json
    patched = client.patch(
        f"/api/v1/data/crm.account/{rid}",
        json={"city": "Berlin"},
        headers={**auth(admin_token), "If-Match": got.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["city"] == "Berlin"


def test_an_entity_added_by_another_process_is_served_on_the_very_next_request(
    account_app, admin_token, other_process
):
    client = account_app.test_client()
    assert client.get("/api/v1/data/crm.lead", headers=auth(admin_token)).status_code == 404
    other_process.apply_documents(
        [{"x-xrm": {"name": "crm.lead"}, "properties": {"title": {"type": "string"}}}]
    )
    res = client.post("/api/v1/data/crm.lead", json={"title": "T"}, headers=auth(admin_token))
    assert res.status_code == 201, res.json
    names = [
        e["name"]
        for e in client.get("/api/v1/meta/entities", headers=auth(admin_token)).json["items"]
    ]
    assert "crm.lead" in names


def test_a_deactivated_user_is_refused_on_the_next_request(account_app):
    token = user_token(account_app, "ann")
    client = account_app.test_client()
    assert client.get("/api/v1/meta/entities", headers=auth(token)).status_code == 200
    from flask_appbuilder.security.sqla.models import User

    with account_app.extensions["xrm"].engine.begin() as conn:
        conn.execute(
            sa.update(User.__table__).where(User.__table__.c.username == "ann").values(active=False)
        )
    assert client.get("/api/v1/data/crm.account", headers=auth(token)).status_code == 401


# -- the registry side: a noted version is used once, in its own transaction only -------------


def test_a_noted_version_replaces_the_read_once_in_its_transaction(registry, engine):
    registry.apply_documents([ACCOUNT])
    with engine.connect() as conn, statements_of(engine) as sent:
        with conn.begin():
            version = store.read_version(conn)
            sent.clear()
            store.note_version(conn, version)
            assert registry.snapshot(conn).version == version
            assert sent == []  # no version read: the noted one was used
        with conn.begin():
            registry.snapshot(conn)  # a new transaction: the note is gone, the version is read
            assert len([s for s in sent if reads_the_version(s)]) == 1


def test_a_version_noted_in_an_earlier_transaction_is_not_used(registry, engine, other_process):
    registry.apply_documents([ACCOUNT])
    with engine.connect() as conn:
        with conn.begin():
            store.note_version(conn, store.read_version(conn))
        new = other_process.apply_documents(
            [{"x-xrm": {"name": "crm.lead"}, "properties": {"title": {"type": "string"}}}]
        )
        with conn.begin():
            snap = registry.snapshot(conn)
    assert snap.version == new
    assert "crm.lead" in snap.entities


def test_a_stale_noted_version_is_corrected_by_the_load(registry, engine, other_process):
    """A noted version older than what the transaction then reads (PostgreSQL READ COMMITTED:
    another process committed in between) leads to a load, which reads the version itself."""
    registry.apply_documents([ACCOUNT])
    with engine.connect() as conn:
        with conn.begin():
            old = store.read_version(conn)
        new = other_process.apply_documents(
            [{"x-xrm": {"name": "crm.lead"}, "properties": {"title": {"type": "string"}}}]
        )
        with conn.begin():
            store.note_version(conn, old - 1)  # older than anything this process has seen
            snap = registry.snapshot(conn)
            assert snap.version == new
            assert registry.snapshot(conn).version == new
