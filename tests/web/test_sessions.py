"""Signed-cookie sessions with the signing serializer kept per key set (xrm.web.sessions)."""

from __future__ import annotations

from xrm.web.sessions import KeyedSessionInterface


def test_the_app_uses_the_keyed_session_interface(app):
    assert isinstance(app.session_interface, KeyedSessionInterface)


def test_the_serializer_is_built_once_per_key_set(app):
    si = app.session_interface
    first = si.get_signing_serializer(app)
    assert si.get_signing_serializer(app) is first
    app.config["SECRET_KEY_FALLBACKS"] = ["an-older-key"]
    assert si.get_signing_serializer(app) is not first


def test_a_session_signed_with_a_rotated_out_key_is_refused(app):
    si = app.session_interface
    cookie = si.get_signing_serializer(app).dumps({"_user_id": "1"})
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}) as ctx:
        assert dict(si.open_session(app, ctx.request)) == {"_user_id": "1"}
    app.secret_key = app.config["SECRET_KEY"] = "a-new-secret-key-for-this-test"
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}) as ctx:
        assert dict(si.open_session(app, ctx.request)) == {}
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key-not-for-production"]
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}) as ctx:
        assert dict(si.open_session(app, ctx.request)) == {"_user_id": "1"}


ACCOUNT = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}


def test_a_bearer_token_api_request_neither_reads_nor_sends_a_session(app, admin_token):
    client = app.test_client()
    res = client.get("/api/v1/meta/entities", headers={"Authorization": f"Bearer {admin_token}"})
    assert res.status_code == 200
    assert "Cookie" not in res.headers.get("Vary", "")
    assert "Set-Cookie" not in res.headers


def test_a_session_request_still_varies_by_cookie(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    client = app.test_client()
    with client.session_transaction() as sess, app.app_context():
        sess["_user_id"] = str(app.appbuilder.sm.find_user(username="admin").id)
        sess["_fresh"] = True
    res = client.get("/api/v1/data/crm.account")
    assert res.status_code == 200
    assert "Cookie" in res.headers["Vary"]


def test_a_token_session_written_to_is_saved(app):
    si = app.session_interface
    with app.test_request_context(
        "/api/v1/meta/entities", headers={"Authorization": "Bearer some-token"}
    ) as ctx:
        session = si.open_session(app, ctx.request)
        assert si.is_null_session(session)
        session["note"] = "kept"
        assert not si.is_null_session(session)


def test_a_bearer_request_with_a_session_cookie_opens_that_session(app):
    si = app.session_interface
    cookie = si.get_signing_serializer(app).dumps({"_user_id": "1"})
    headers = {"Authorization": "Bearer some-token", "Cookie": f"session={cookie}"}
    with app.test_request_context("/api/v1/meta/entities", headers=headers) as ctx:
        assert dict(si.open_session(app, ctx.request)) == {"_user_id": "1"}
