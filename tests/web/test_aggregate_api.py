"""GET /api/v1/data/<entity>/aggregate: grouped counts and sums for dashboards, with the list
filters, the caller's record scope and field security applied in SQL."""

from __future__ import annotations

import pytest

from xrm.core.security import grants

DEAL = {
    "x-xrm": {"name": "crm.deal", "titleField": "name"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "stage": {"type": "string", "enum": ["new", "won", "lost"]},
        "amount": {"x-xrm": {"type": "decimal", "precision": 12, "scale": 2}},
        "seats": {"type": "integer"},
        "value": {"x-xrm": {"type": "money", "defaultCurrency": "EUR"}},
        "closed_on": {"type": "string", "format": "date"},
        "margin": {"type": "integer"},
    },
}
DEALS = [
    {"name": "a", "stage": "new", "amount": "100.50", "seats": 1, "closed_on": "2026-01-05"},
    {"name": "b", "stage": "new", "amount": "200.00", "seats": 3, "closed_on": "2026-01-20"},
    {"name": "c", "stage": "won", "amount": "1000.00", "seats": 10, "closed_on": "2026-02-01"},
    {"name": "d", "stage": "lost", "amount": "50.00", "seats": 2},
    {"name": "e", "amount": "5.00", "seats": 7},
]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([DEAL])
    c = app.test_client()
    for d in DEALS:
        assert c.post("/api/v1/data/crm.deal", json=d, headers=auth(admin_token)).status_code == 201
    c.token = admin_token
    return c


def agg(client, query, token=None):
    return client.get(
        f"/api/v1/data/crm.deal/aggregate?{query}", headers=auth(token or client.token)
    )


def test_counts_and_sums_per_group_in_key_order_with_nulls_last(client):
    res = agg(client, "group=stage&measure=count,sum.amount,max.seats")
    assert res.status_code == 200
    assert res.json["measures"] == ["count", "sum.amount", "max.seats"]
    assert res.json["items"] == [
        {"key": "lost", "count": 1, "sum.amount": "50.00", "max.seats": 2},
        {"key": "new", "count": 2, "sum.amount": "300.50", "max.seats": 3},
        {"key": "won", "count": 1, "sum.amount": "1000.00", "max.seats": 10},
        {"key": None, "count": 1, "sum.amount": "5.00", "max.seats": 7},
    ]


def test_without_group_one_total_and_filters_apply(client):
    res = agg(client, "measure=count,sum.seats,avg.seats&stage=in.(new,won)")
    assert res.json["items"] == [{"key": None, "count": 3, "sum.seats": 14, "avg.seats": 14 / 3}]


def test_the_dashboard_spelling_sum_colon_field_is_accepted(client):
    res = agg(client, "group=stage&measure=sum:seats&stage=eq.won")
    assert res.json["items"] == [{"key": "won", "sum.seats": 10}]


def test_dates_group_by_month(client):
    res = agg(client, "group=closed_on:month&measure=count&closed_on=not.is.null")
    assert res.json["items"] == [{"key": "2026-01", "count": 2}, {"key": "2026-02", "count": 1}]


def test_money_sums_keep_their_currency(client):
    client.patch(
        "/api/v1/data/crm.deal/1",
        json={"value": {"amount": "10", "currency": "EUR"}},
        headers=auth(client.token),
    )
    client.patch(
        "/api/v1/data/crm.deal/2", json={"value": {"amount": "5.5"}}, headers=auth(client.token)
    )
    res = agg(client, "measure=sum.value&value=not.is.null")
    assert res.json["items"] == [{"key": None, "sum.value": {"amount": "15.50", "currency": "EUR"}}]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("group=nope", "crm.deal has no field 'nope'"),
        ("measure=sum.name", "sum is not possible on crm.deal.name (text)"),
        ("measure=median.seats", "'median.seats' is not a measure"),
        ("group=stage:month", "only date and datetime fields take a bucket"),
        ("group=stage&order=stage", "order does not apply to aggregates"),
        ("stage=eq.maybe", "not one of"),
        ("limit=5000", "limit must be at most 1000"),
    ],
)
def test_bad_parameters_are_400_naming_the_problem(client, query, message):
    res = agg(client, query)
    assert res.status_code == 400
    assert res.mimetype == "application/problem+json"
    assert message in res.json["detail"]


def _user(app, client, name, role):
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_role(role)
        sm.add_user(
            name, name, "U", f"{name}@example.org", sm.find_role(role), password="pw-agg-123"
        )
    return client.post(
        "/api/v1/security/login",
        json={"username": name, "password": "pw-agg-123", "provider": "db"},
    ).json["access_token"]


def test_scope_and_field_security_apply(app, client):
    token = _user(app, client, "joe", "Reps")
    assert agg(client, "measure=count", token).status_code == 403
    with app.extensions["xrm"].engine.begin() as conn:
        grants.grant(conn, "Reps", "crm.deal", ["read", "create"])
        grants.set_scope(conn, "Reps", "crm.deal", "own")
        grants.secure_field(conn, "Admin", "crm.deal", "margin", read=True, write=True)
    client.post("/api/v1/data/crm.deal", json={"name": "mine", "seats": 4}, headers=auth(token))
    res = agg(client, "measure=count,sum.seats", token)
    assert res.json["items"] == [{"key": None, "count": 1, "sum.seats": 4}]
    hidden = agg(client, "measure=sum.margin", token)
    assert hidden.status_code == 400
    assert "not readable" in hidden.json["detail"]
    assert agg(client, "group=margin", token).status_code == 400
