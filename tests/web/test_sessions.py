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
