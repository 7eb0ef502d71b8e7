"""JSON responses encoded with orjson (xrm.web.jsonbody): the same JSON values as Flask's own
provider, and Flask's provider wherever orjson refuses a value."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from decimal import Decimal

from flask import jsonify
from flask.json.provider import DefaultJSONProvider

from xrm.web.jsonbody import OrjsonProvider


def encode_both(app, value):
    """(orjson provider's body, Flask's default provider's body) for ``value``."""
    with app.app_context():
        ours = jsonify(value).get_data()
        app.json, kept = DefaultJSONProvider(app), app.json
        app.json.sort_keys = kept.sort_keys
        try:
            flask = jsonify(value).get_data()
        finally:
            app.json = kept
    return ours, flask


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_the_app_encodes_responses_with_orjson_and_keeps_the_field_order(app):
    assert isinstance(app.json, OrjsonProvider)
    ours, _ = encode_both(app, {"b": 1, "a": 2})
    assert ours == b'{"b":1,"a":2}\n'


def test_values_mean_the_same_as_with_flasks_provider(app):
    value = {
        "id": 7,
        "name": "Müller & Söhne",
        "rate": 0.1,
        "big": 2**62,
        "none": None,
        "flags": [True, False],
        "at": dt.datetime(2026, 1, 2, 3, 4, 5),
        "day": dt.date(2026, 1, 2),
        "money": Decimal("12.50"),
        "key": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "point": Point(1, 2),
    }
    ours, flask = encode_both(app, value)
    assert json.loads(ours) == json.loads(flask)
    assert json.loads(ours)["at"] == "Fri, 02 Jan 2026 03:04:05 GMT"  # Flask's HTTP date


def test_what_orjson_refuses_is_encoded_by_flasks_provider(app):
    for value in ({"huge": 2**80}, {1: "int key"}):
        ours, flask = encode_both(app, value)
        assert ours == flask


def test_record_responses_are_orjson_encoded(app, admin_token):
    app.extensions["xrm"].registry.apply_documents(
        [{"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}]
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {admin_token}"}
    created = client.post("/api/v1/data/crm.account", json={"name": "Zoë"}, headers=headers)
    res = client.get(f"/api/v1/data/crm.account/{created.json['id']}", headers=headers)
    assert '"name":"Zoë"' in res.get_data(as_text=True)  # UTF-8, not \u escapes
    assert res.json["name"] == "Zoë"
