"""The workflow and rules step of the one write path (RecordService), on a real database."""

from __future__ import annotations

import pytest
from runtime_support import build_env

from xrm.core.records.errors import RecordInvalid
from xrm.core.workflows import StateWriteRefused


@pytest.fixture
def env(make_app):
    return build_env(make_app)


def test_a_new_record_starts_in_the_initial_state(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "100"})
    assert rec["stage"] == "draft"


def test_a_new_record_given_another_state_is_refused_naming_field_and_transitions(env):
    with pytest.raises(RecordInvalid) as exc:
        env.create(env.users["rep"], {"name": "ACME", "stage": "won"})
    [problem] = exc.value.problems
    assert problem["pointer"] == "/stage"
    assert "starts in state 'draft'" in problem["message"]
    assert "send_quote" in problem["message"] and "lose" in problem["message"]


def test_writing_the_state_field_directly_is_refused(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "100"})
    with pytest.raises(RecordInvalid) as exc:
        env.update(env.users["rep"], rec["id"], {"stage": "won"})
    [problem] = exc.value.problems
    assert problem["field"] == "stage"
    assert "only by a transition" in problem["message"]
    assert "allowed transitions: lose, send_quote" in problem["message"]
    assert env.get(rec["id"])["stage"] == "draft"


def test_writing_the_state_a_transition_leads_to_fires_that_transition(env):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "100"})
    moved = env.update(rep, rec["id"], {"stage": "quoted", "valid_until": "2030-01-01"})
    assert moved["stage"] == "quoted"
    assert moved["quoted_at"] is not None  # send_quote's setFields action ran
    assert moved["net_amount"] == "100.00"
    with env.tx() as conn:
        history = env.records.history(conn, env.users["admin"], "sales.opportunity", rec["id"])
        states = env.wf.state_history(conn, env.users["admin"], "sales.opportunity", rec["id"])
    assert history[0]["transition"]["name"] == "send_quote"
    assert [s["state"] for s in states] == ["draft", "quoted"]


def test_a_state_write_is_refused_as_the_transition_would_be(env):
    rep, admin = env.users["rep"], env.users["admin"]
    rec = env.create(rep, {"name": "ACME"})
    with pytest.raises(StateWriteRefused) as exc:  # the guard: no amount yet
        env.update(rep, rec["id"], {"stage": "quoted", "valid_until": "2030-01-01"})
    assert exc.value.status == 422
    assert exc.value.problems[0]["code"] == "guard"
    assert "needs an amount before it is quoted" in exc.value.problems[0]["message"]
    env.update(rep, rec["id"], {"amount": "100"})
    with pytest.raises(StateWriteRefused) as exc:  # the transition's required field
        env.update(rep, rec["id"], {"stage": "quoted"})
    assert exc.value.problems[0]["field"] == "valid_until"
    assert exc.value.problems[0]["code"] == "missing_fields"
    env.update(rep, rec["id"], {"stage": "quoted", "valid_until": "2030-01-01"})
    with pytest.raises(RecordInvalid) as exc:  # quoted -> lost: lose and expire both lead there
        env.update(admin, rec["id"], {"stage": "lost", "lost_reason": "price"})
    [problem] = exc.value.problems
    assert problem["field"] == "stage"
    assert "(expire, lose): fire one of them by name" in problem["message"]
    assert env.get(rec["id"])["stage"] == "quoted"


def test_a_state_write_needs_the_transitions_role(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "100"})
    env.update(env.users["rep"], rec["id"], {"stage": "quoted", "valid_until": "2030-01-01"})
    env.fire(env.users["rep"], rec["id"], "lose", values={"lost_reason": "price"}, comment="no")
    with pytest.raises(StateWriteRefused) as exc:  # reopen: sales managers only
        env.update(env.users["rep"], rec["id"], {"stage": "draft"})
    assert exc.value.status == 403
    assert exc.value.problems[0] == {
        "pointer": "/stage",
        "field": "stage",
        "code": "role",
        "message": exc.value.problems[0]["message"],
    }
    assert "sales_manager" in exc.value.problems[0]["message"]
    assert env.get(rec["id"])["stage"] == "lost"


def test_import_moves_a_record_only_through_its_transition(env):
    from xrm.core.security.grants import grant
    from xrm.core.transfer import ImportMode, ImportOptions, import_file

    manager = env.users["manager"]  # send_quote: sales reps and managers
    with env.tx() as conn:
        grant(conn, "sales_manager", "sales.opportunity", ["import"])
    ok = env.create(manager, {"name": "Good", "amount": "100"})
    bad = env.create(manager, {"name": "Empty"})
    csv = (
        b"id,stage,valid_until\n"
        + f"{ok['id']},quoted,2030-01-01\n{bad['id']},quoted,2030-01-01\n".encode()
    )
    with env.tx() as conn:
        report = import_file(
            env.records,
            conn,
            manager,
            "sales.opportunity",
            csv,
            ImportOptions(key=("id",), mode=ImportMode.SKIP_BAD_ROWS),
            format="csv",
        )
    assert report.updated == 1
    [error] = report.errors
    assert error.row == 3 and "needs an amount" in error.message
    assert env.get(ok["id"])["stage"] == "quoted"
    assert env.get(ok["id"])["quoted_at"] is not None
    assert env.get(bad["id"])["stage"] == "draft"


def test_import_cannot_bypass_the_state_guard(env):
    from xrm.core.transfer import ImportMode, ImportOptions, import_file

    csv = b"name,amount,stage\nGood,100,draft\nSneaky,100,won\n"
    with env.tx() as conn:
        report = import_file(
            env.records,
            conn,
            env.users["admin"],
            "sales.opportunity",
            csv,
            ImportOptions(mode=ImportMode.SKIP_BAD_ROWS),
            format="csv",
        )
    assert report.created == 1
    [bad] = report.errors
    assert "starts in state 'draft'" in str(bad)
    with env.tx() as conn:
        import sqlalchemy as sa

        from xrm.core.workflows.tables import state_log

        assert conn.execute(sa.select(sa.func.count()).select_from(state_log)).scalar() == 1


def test_bulk_update_cannot_bypass_the_state_guard(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "100"})
    client = env.app.test_client()
    token = _token(client)
    res = client.post(
        "/api/v1/data/sales.opportunity/bulk",
        json={"mode": "update", "records": [{"id": rec["id"], "stage": "won"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert res.status_code == 422
    assert res.json["errors"][0]["field"] == "stage"


def _token(client, user="admin", password="admin-password-for-tests"):
    res = client.post(
        "/api/v1/security/login", json={"username": user, "password": password, "provider": "db"}
    )
    return res.json["access_token"]


def test_read_only_fields_of_the_state_cannot_change(env):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "100"})
    env.fire(rep, rec["id"], "send_quote", values={"valid_until": "2030-01-01"})
    with pytest.raises(RecordInvalid) as exc:
        env.update(rep, rec["id"], {"amount": "50"})
    assert exc.value.problems[0]["field"] == "amount"
    assert "cannot change while the record is 'Quoted'" in exc.value.problems[0]["message"]


def test_required_fields_of_the_state_cannot_be_emptied(env):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "100"})
    env.fire(rep, rec["id"], "send_quote", values={"valid_until": "2030-01-01"})
    with pytest.raises(RecordInvalid) as exc:
        env.update(rep, rec["id"], {"valid_until": None})
    assert exc.value.problems[0]["field"] == "valid_until"


def test_a_saved_workflow_is_enforced_by_every_process_on_its_next_request(make_app):
    env = build_env(make_app, workflow=False)
    other = make_app()  # another process's application: its own registry and catalog
    p2 = other.extensions["xrm"]
    rep = env.users["rep"]
    with p2.engine.begin() as conn:
        assert p2.records.create(conn, rep, "sales.opportunity", {"name": "A", "stage": "won"})
    from runtime_support import workflow_doc

    before = env.platform.registry.version()
    env.save("workflow", workflow_doc())
    assert env.platform.registry.version() == before + 1
    with p2.engine.begin() as conn, pytest.raises(RecordInvalid):
        p2.records.create(conn, rep, "sales.opportunity", {"name": "B", "stage": "won"})


def test_a_patch_of_the_state_field_fires_the_transition_over_http(env):
    rec = env.create(env.users["rep"], {"name": "ACME"})
    client = env.app.test_client()
    headers = {"Authorization": f"Bearer {_token(client, 'rep', 'pw-rep')}"}
    url = f"/api/v1/data/sales.opportunity/{rec['id']}"
    res = client.patch(url, json={"stage": "quoted", "valid_until": "2030-01-01"}, headers=headers)
    assert res.status_code == 422
    assert res.content_type == "application/problem+json"
    assert res.json["errors"][0]["code"] == "guard"
    # The other fields written with the state are the transition's input: only its own fields.
    res = client.patch(
        url, json={"stage": "quoted", "valid_until": "2030-01-01", "amount": 5}, headers=headers
    )
    assert res.status_code == 422
    assert res.json["errors"] == [
        {
            "pointer": "/amount",
            "field": "amount",
            "code": "unexpected_input",
            "message": "'send_quote' does not take amount",
        }
    ]
    assert client.patch(url, json={"amount": 5}, headers=headers).status_code == 200
    res = client.patch(url, json={"stage": "quoted", "valid_until": "2030-01-01"}, headers=headers)
    assert res.status_code == 200, res.json
    assert res.json["stage"] == "quoted" and res.json["quoted_at"]
