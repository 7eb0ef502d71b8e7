"""CSV/XLSX import and export over HTTP."""

from __future__ import annotations

import io
import sqlite3

import pytest
import sqlalchemy as sa

from xrm.core.security import grants

ACCOUNT = {
    "x-xrm": {"name": "crm.account", "unique": [["code"]]},
    "required": ["name"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "size": {"type": "integer"},
    },
}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(app, admin_token):
    app.extensions["xrm"].registry.apply_documents([ACCOUNT])
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token}"
    return c


def upload(client, text, **options):
    data = {"file": (io.BytesIO(text.encode()), "accounts.csv"), **options}
    return client.post(
        "/api/v1/data/crm.account/import", data=data, content_type="multipart/form-data"
    )


def test_a_dry_run_reports_every_bad_row_and_writes_nothing(client):
    res = upload(client, "code,name,size\nA,Acme,1\nB,,x\nC,Cee,3\n", dryRun="true")
    assert res.status_code == 200
    rows = sorted({e["row"] for e in res.json["errors"]})
    assert rows == [3]
    assert client.get("/api/v1/data/crm.account").json["items"] == []


def test_all_or_nothing_refuses_a_file_with_a_bad_row(client):
    res = upload(client, "code,name,size\nA,Acme,1\nB,Bee,x\n")
    assert res.status_code == 422
    assert client.get("/api/v1/data/crm.account").json["items"] == []


def test_skip_bad_rows_imports_the_good_ones_and_upserts_by_key(client):
    assert (
        upload(client, "code,name,size\nA,Acme,1\nB,Bee,x\n", mode="skip_bad_rows").status_code
        == 200
    )
    res = upload(client, "code,name\nA,Acme Ltd\nC,Cee\n", key="code")
    assert res.status_code == 200
    names = sorted(r["name"] for r in client.get("/api/v1/data/crm.account").json["items"])
    assert names == ["Acme Ltd", "Cee"]


def test_export_honours_the_query_and_round_trips(client):
    upload(client, "code,name,size\nA,Acme,1\nB,Bee,2\nC,Cee,3\n")
    res = client.get(
        "/api/v1/data/crm.account/export?size=gte.2&order=code&header=name&select=code,name,size"
    )
    assert res.status_code == 200
    text = res.get_data(as_text=True)
    assert text.splitlines() == ["id,code,name,size", "2,B,Bee,2", "3,C,Cee,3"]
    again = upload(client, text, key="code")
    assert again.json["unchanged"] == 2


def test_xlsx_export_is_a_workbook(client):
    from openpyxl import load_workbook

    upload(client, "code,name\nA,Acme\n")
    res = client.get("/api/v1/data/crm.account/export?format=xlsx&header=name")
    assert res.status_code == 200
    sheet = load_workbook(io.BytesIO(res.data)).active
    assert [c.value for c in sheet[1]][:3] == ["id", "code", "name"]
    assert [c.value for c in sheet[2]][1:3] == ["A", "Acme"]


def test_a_bad_export_query_is_a_400_before_any_output(client):
    assert client.get("/api/v1/data/crm.account/export?size=between.1").status_code == 400


def _login_as_clerk(app, actions):
    """A token of a user whose role may do ``actions`` with crm.account, and nothing else."""
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_role("Clerk")
        sm.add_user(
            "clerk", "C", "Lerk", "clerk@example.org", sm.find_role("Clerk"), password="pw-clerk"
        )
    with app.extensions["xrm"].engine.begin() as conn:
        grants.grant(conn, "Clerk", "crm.account", actions)
    res = app.test_client().post(
        "/api/v1/security/login",
        json={"username": "clerk", "password": "pw-clerk", "provider": "db"},
    )
    return res.json["access_token"]


@pytest.mark.parametrize("format_", ["csv", "xlsx"])
def test_export_without_the_export_permission_is_a_403_problem(app, client, format_):
    upload(client, "code,name\nA,Acme\n")
    token = _login_as_clerk(app, ["read", "create", "update", "import"])
    res = client.get(f"/api/v1/data/crm.account/export?format={format_}", headers=auth(token))
    assert res.status_code == 403
    assert res.mimetype == "application/problem+json"
    assert "export" in res.json["detail"]
    assert client.get("/api/v1/data/crm.account", headers=auth(token)).status_code == 200


def test_import_without_the_import_permission_is_a_403_problem_and_writes_nothing(app, client):
    token = _login_as_clerk(app, ["read", "create", "update", "export"])
    data = {"file": (io.BytesIO(b"code,name\nA,Acme\n"), "accounts.csv")}
    res = client.post(
        "/api/v1/data/crm.account/import",
        data=data,
        content_type="multipart/form-data",
        headers=auth(token),
    )
    assert res.status_code == 403
    assert res.mimetype == "application/problem+json"
    assert "import" in res.json["detail"]
    assert client.get("/api/v1/data/crm.account").json["items"] == []
    # the same user with the permission imports the file
    with app.extensions["xrm"].engine.begin() as conn:
        grants.grant(conn, "Clerk", "crm.account", ["import"])
    data = {"file": (io.BytesIO(b"code,name\nA,Acme\n"), "accounts.csv")}
    res = client.post(
        "/api/v1/data/crm.account/import",
        data=data,
        content_type="multipart/form-data",
        headers=auth(token),
    )
    assert res.status_code == 200, res.json


def test_an_import_run_again_after_a_busy_database_reads_the_whole_file_again(app, client):
    """SQLite's busy snapshot makes the request run again (xrm.web.busy); the second run reads
    the uploaded file from its start, not from where the first run left it."""
    engine = app.extensions["xrm"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the busy snapshot is SQLite's")
    failed = []

    def busy_once(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO crm_account") and not failed:
            failed.append(statement)
            raise sa.exc.OperationalError(
                statement, (), sqlite3.OperationalError("database is locked")
            )

    sa.event.listen(engine, "before_cursor_execute", busy_once)
    try:
        res = upload(client, "code,name\nA,Acme\nB,Bee\n")
    finally:
        sa.event.remove(engine, "before_cursor_execute", busy_once)
    assert failed, "the first run did not reach the INSERT"
    assert res.status_code == 200, res.json
    assert (res.json["rows"], res.json["created"]) == (2, 2)
    items = client.get("/api/v1/data/crm.account?order=code").json["items"]
    assert [i["code"] for i in items] == ["A", "B"]
