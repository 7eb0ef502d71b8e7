"""Statements prepared by the driver (psycopg prepares a statement sent five times) keep working
when a schema change alters the table they read: the same SQL text after a type conversion must
not hit PostgreSQL's "cached plan must not change result type"."""

from __future__ import annotations


def item(n_type: dict) -> dict:
    return {
        "x-xrm": {"name": "tst.item"},
        "properties": {"name": {"type": "string"}, "n": n_type},
    }


def test_a_record_read_many_times_is_read_after_its_field_changed_type(app, admin_token):
    registry = app.extensions["xrm"].registry
    registry.apply_documents([item({"type": "integer"})])
    c = app.test_client()
    h = {"Authorization": f"Bearer {admin_token}"}
    rid = c.post("/api/v1/data/tst.item", json={"name": "a", "n": 12}, headers=h).json["id"]
    for _ in range(12):  # past psycopg's prepare threshold, on every pooled connection used
        assert c.get(f"/api/v1/data/tst.item/{rid}", headers=h).json["n"] == 12
        assert c.get("/api/v1/data/tst.item?n=eq.12", headers=h).json["items"][0]["id"] == rid
    registry.apply_documents([item({"type": "string"})], confirm=True)
    for _ in range(3):
        res = c.get(f"/api/v1/data/tst.item/{rid}", headers=h)
        assert res.status_code == 200, res.get_data(as_text=True)
        assert res.json["n"] == "12"
        listed = c.get("/api/v1/data/tst.item?n=eq.12", headers=h)
        assert listed.status_code == 200, listed.get_data(as_text=True)
        assert [r["id"] for r in listed.json["items"]] == [rid]
    patched = c.patch(f"/api/v1/data/tst.item/{rid}", json={"n": "x"}, headers=h)
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert c.get(f"/api/v1/data/tst.item/{rid}", headers=h).json["n"] == "x"
