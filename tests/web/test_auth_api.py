"""API authentication: personal tokens, CSRF on session writes, rate limits."""

from __future__ import annotations

ACCOUNT = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_personal_token_authenticates_until_revoked(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    client = app.test_client()
    created = client.post("/api/v1/tokens", json={"name": "erp sync"}, headers=auth(admin_token))
    assert created.status_code == 201
    token = created.json["token"]
    assert token.startswith("xrm_")
    assert client.get("/api/v1/data/crm.account", headers=auth(token)).status_code == 200
    listed = client.get("/api/v1/tokens", headers=auth(token)).json["items"]
    assert [t["name"] for t in listed] == ["erp sync"]
    assert "token" not in listed[0]
    assert (
        client.delete(f"/api/v1/tokens/{created.json['id']}", headers=auth(admin_token)).status_code
        == 204
    )
    res = client.get("/api/v1/data/crm.account", headers=auth(token))
    assert res.status_code == 401
    assert "revoked" in res.json["detail"]


def test_a_wrong_token_is_401(app):
    res = app.test_client().get("/api/v1/meta/entities", headers=auth("xrm_deadbeef_nope"))
    assert res.status_code == 401


def test_session_writes_need_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            "admin", "A", "U", "a@example.org", sm.find_role("Admin"), password="pw-session-1"
        )
    client = app.test_client()
    with client.session_transaction() as sess, app.app_context():
        sess["_user_id"] = str(sm.find_user(username="admin").id)
        sess["_fresh"] = True
    assert client.get("/api/v1/data/crm.account").status_code == 200
    res = client.post("/api/v1/data/crm.account", json={"name": "x"})
    assert res.status_code == 400
    assert "X-CSRFToken" in res.json["detail"]


def test_too_many_requests_get_429_with_retry_after(make_app, admin_token):
    app = make_app(XRM_RATE_LIMIT="3 per minute")
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user("rl", "R", "L", "rl@example.org", sm.find_role("Admin"), password="pw-rate-1")
    client = app.test_client()
    token = client.post(
        "/api/v1/security/login", json={"username": "rl", "password": "pw-rate-1", "provider": "db"}
    ).json["access_token"]
    codes = [client.get("/api/v1/meta/entities", headers=auth(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    res = client.get("/api/v1/meta/entities", headers=auth(token))
    assert res.mimetype == "application/problem+json"
    assert int(res.headers["Retry-After"]) >= 1


def test_a_users_api_tokens_and_logins_share_one_rate_limit(make_app):
    app = make_app(XRM_RATE_LIMIT="4 per minute")
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user("rl", "R", "L", "rl@example.org", sm.find_role("Admin"), password="pw-rate-1")
    client = app.test_client()
    login = {"username": "rl", "password": "pw-rate-1", "provider": "db"}
    jwt = client.post("/api/v1/security/login", json=login).json["access_token"]
    first = client.post("/api/v1/tokens", json={"name": "a"}, headers=auth(jwt)).json["token"]
    second = client.post("/api/v1/tokens", json={"name": "b"}, headers=auth(jwt)).json["token"]
    # Two requests with the JWT so far. A token's first request counts for the token (it is
    # not known yet), every later one for its user: 2 + 2 more of the user's reach the 4.
    codes = [
        client.get("/api/v1/tokens", headers=auth(t)).status_code
        for t in (first, second, first, second, jwt, first)
    ]
    assert codes == [200, 200, 200, 200, 429, 429]
