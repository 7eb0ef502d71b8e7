"""REST: jobs administration (dead letters, run log, retry, discard) and the in-app inbox."""

from __future__ import annotations

import pytest
from jobs_support import FAST_RETRIES, job_id_of, job_status, wait_for

from xrm.core.jobs import Dispatcher, enqueue, inbox

PASSWORD = "user-password-for-tests"


@pytest.fixture
def app(make_app):
    return make_app(**FAST_RETRIES, XRM_RATE_LIMIT="100000 per minute")


@pytest.fixture
def platform(app):
    return app.extensions["xrm"]


def login(app, username: str, role: str = "Sales") -> tuple[int, dict]:
    with app.app_context():
        sm = app.appbuilder.sm
        r = sm.find_role(role) or sm.add_role(role)
        user = sm.add_user(username, username, "T", f"{username}@example.org", r, password=PASSWORD)
        user_id = user.id
    res = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db"},
    )
    return user_id, {"Authorization": f"Bearer {res.json['access_token']}"}


@pytest.fixture
def admin(app, admin_token):
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def client(app):
    return app.test_client()


def dead_letter(p, key="dead-1"):
    @p.jobs.handler("test.fails")
    def fails(ctx, job):
        ctx.step("calling the ERP")
        raise RuntimeError("ERP unreachable")

    with p.engine.begin() as conn:
        enqueue(conn, "test.fails", key, {"erp": "x", "api_key": "k-123"}, entity="crm.deal")
    job_id = job_id_of(p, key)
    dispatcher = Dispatcher(p, p.jobs)
    wait_for(lambda: job_status(p, job_id) == "dead", step=dispatcher.run_once)


def test_the_dead_letters_list_shows_failed_jobs_with_their_last_error(platform, client, admin):
    dead_letter(platform)
    with platform.engine.begin() as conn:
        enqueue(conn, "action.webhook", "waiting", {"url": "http://127.0.0.1:9/"}, delay_seconds=60)
    res = client.get("/api/v1/admin/jobs?status=dead", headers=admin)
    assert res.status_code == 200
    [item] = res.json["items"]
    assert item["key"] == "dead-1" and item["status"] == "dead" and item["attempts"] == 3
    assert item["lastError"] == "RuntimeError: ERP unreachable (gave up after 3 attempts)"
    assert res.json["counts"]["dead"] == 1 and res.json["counts"]["pending"] == 1
    by_topic = client.get("/api/v1/admin/jobs?topic=action.*", headers=admin).json["items"]
    assert [i["key"] for i in by_topic] == ["waiting"]


def test_a_job_shows_its_run_log_with_secrets_masked(platform, client, admin):
    dead_letter(platform)
    job = client.get("/api/v1/admin/jobs?status=dead", headers=admin).json["items"][0]
    res = client.get(f"/api/v1/admin/jobs/{job['id']}", headers=admin)
    assert res.status_code == 200
    assert res.json["payload"] == {"erp": "x", "api_key": "***"}
    assert [r["outcome"] for r in res.json["runs"]] == ["retry", "retry", "dead"]
    assert res.json["runs"][0]["steps"][0]["message"] == "calling the ERP"
    assert "RuntimeError: ERP unreachable" in res.json["runs"][2]["error"]


def test_retrying_a_dead_job_queues_it_again_and_a_delivered_job_cannot_be_retried(
    platform, client, admin
):
    dead_letter(platform)
    job_id = client.get("/api/v1/admin/jobs?status=dead", headers=admin).json["items"][0]["id"]
    platform.jobs._exact["test.fails"] = lambda ctx, job: None  # the ERP is back
    res = client.post(f"/api/v1/admin/jobs/{job_id}/retry", headers=admin)
    assert res.status_code == 200
    assert (res.json["status"], res.json["attempts"]) == ("pending", 0)
    Dispatcher(platform, platform.jobs).drain()
    assert client.get(f"/api/v1/admin/jobs/{job_id}", headers=admin).json["status"] == "done"
    again = client.post(f"/api/v1/admin/jobs/{job_id}/retry", headers=admin)
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert f"job {job_id} is done" in again.json["detail"]


def test_a_discarded_job_is_never_delivered(platform, client, admin):
    seen = []
    platform.jobs.handler("test.later")(lambda ctx, job: seen.append(job.key))
    with platform.engine.begin() as conn:
        enqueue(conn, "test.later", "drop-me", {})
    job_id = client.get("/api/v1/admin/jobs?topic=test.later", headers=admin).json["items"][0]["id"]
    res = client.post(f"/api/v1/admin/jobs/{job_id}/discard", headers=admin)
    assert res.status_code == 200 and res.json["status"] == "discarded"
    Dispatcher(platform, platform.jobs).drain()
    assert seen == []
    assert client.post(f"/api/v1/admin/jobs/{job_id}/discard", headers=admin).status_code == 409


def test_jobs_are_paged_newest_first(platform, client, admin):
    with platform.engine.begin() as conn:
        for i in range(5):
            enqueue(conn, "test.page", f"p{i}", {})
    first = client.get("/api/v1/admin/jobs?limit=2", headers=admin).json
    second = client.get(f"/api/v1/admin/jobs?limit=2&before={first['next']}", headers=admin).json
    third = client.get(f"/api/v1/admin/jobs?limit=2&before={second['next']}", headers=admin).json
    keys = [i["key"] for page in (first, second, third) for i in page["items"]]
    assert keys == ["p4", "p3", "p2", "p1", "p0"]
    assert third["next"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=gone", "status"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("before=-1", "before"),
    ],
)
def test_a_bad_query_names_the_parameter(client, admin, query, parameter):
    res = client.get(f"/api/v1/admin/jobs?{query}", headers=admin)
    assert res.status_code == 400
    assert res.mimetype == "application/problem+json"
    assert [e["parameter"] for e in res.json["errors"]] == [parameter]


def test_jobs_are_for_administrators_only(app, client):
    _uid, headers = login(app, "ann")
    for method, path in [
        ("get", "/api/v1/admin/jobs"),
        ("get", "/api/v1/admin/jobs/1"),
        ("post", "/api/v1/admin/jobs/1/retry"),
        ("post", "/api/v1/admin/jobs/1/discard"),
    ]:
        res = getattr(client, method)(path, headers=headers)
        assert res.status_code == 403, path
        assert res.mimetype == "application/problem+json"
    assert client.get("/api/v1/admin/jobs").status_code == 401


@pytest.mark.parametrize("job_id", [12345, 2**70])
def test_an_unknown_job_is_not_found(client, admin, job_id):
    res = client.get(f"/api/v1/admin/jobs/{job_id}", headers=admin)
    assert res.status_code == 404 and res.mimetype == "application/problem+json"
    assert client.post(f"/api/v1/admin/jobs/{job_id}/retry", headers=admin).status_code == 404


# -- inbox ------------------------------------------------------------------------------------


def notify(p, user_id: int, *subjects: str) -> None:
    with p.engine.begin() as conn:
        for s in subjects:
            inbox.add(conn, [user_id], subject=s, entity="crm.lead", record_id=1, link="/x")


def test_the_inbox_lists_only_my_notifications_newest_first(app, platform, client):
    ann, ann_h = login(app, "ann")
    bob, _bob_h = login(app, "bob")
    notify(platform, ann, "first", "second")
    notify(platform, bob, "not yours")
    res = client.get("/api/v1/inbox", headers=ann_h)
    assert res.status_code == 200
    assert [i["subject"] for i in res.json["items"]] == ["second", "first"]
    assert res.json["unread"] == 2
    item = res.json["items"][0]
    assert (item["entity"], item["recordId"], item["link"], item["read"]) == (
        "crm.lead",
        1,
        "/x",
        False,
    )


def test_reading_a_notification_and_the_unread_filter(app, platform, client):
    ann, headers = login(app, "ann")
    notify(platform, ann, "a", "b", "c")
    items = client.get("/api/v1/inbox", headers=headers).json["items"]
    res = client.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=headers)
    assert res.status_code == 200 and res.json["read"] is True and res.json["readAt"]
    unread = client.get("/api/v1/inbox?unread=true", headers=headers).json
    assert [i["subject"] for i in unread["items"]] == ["b", "a"]
    assert unread["unread"] == 2
    assert client.post("/api/v1/inbox/read-all", headers=headers).json == {"marked": 2}
    assert client.get("/api/v1/inbox?unread=true", headers=headers).json["items"] == []


def test_nobody_reads_someone_elses_notification(app, platform, client):
    ann, _ = login(app, "ann")
    _bob, bob_h = login(app, "bob")
    notify(platform, ann, "private")
    [item] = platform_items(platform, ann)
    res = client.post(f"/api/v1/inbox/{item['id']}/read", headers=bob_h)
    assert res.status_code == 404 and res.mimetype == "application/problem+json"
    assert platform_items(platform, ann)[0]["read"] is False


def platform_items(p, user_id):
    with p.engine.connect() as conn:
        return inbox.page(conn, user_id)["items"]


def test_the_inbox_is_paged(app, platform, client):
    ann, headers = login(app, "ann")
    notify(platform, ann, *[f"n{i}" for i in range(5)])
    first = client.get("/api/v1/inbox?limit=3", headers=headers).json
    rest = client.get(f"/api/v1/inbox?limit=3&before={first['next']}", headers=headers).json
    assert [i["subject"] for i in first["items"] + rest["items"]] == [
        "n4",
        "n3",
        "n2",
        "n1",
        "n0",
    ]
    assert rest["next"] is None
    bad = client.get("/api/v1/inbox?unread=maybe", headers=headers)
    assert bad.status_code == 400 and bad.json["errors"][0]["parameter"] == "unread"


# -- the live OpenAPI document ----------------------------------------------------------------


def test_the_openapi_document_describes_jobs_and_inbox(client, admin):
    doc = client.get("/api/v1/openapi.json", headers=admin).json
    for path, method in [
        ("/admin/jobs", "get"),
        ("/admin/jobs/{id}", "get"),
        ("/admin/jobs/{id}/retry", "post"),
        ("/admin/jobs/{id}/discard", "post"),
        ("/inbox", "get"),
        ("/inbox/{id}/read", "post"),
        ("/inbox/read-all", "post"),
    ]:
        assert method in doc["paths"][path], path
    status = doc["paths"]["/admin/jobs"]["get"]["parameters"][0]
    assert status["name"] == "status" and "dead" in status["schema"]["enum"]


def test_the_answers_match_the_document(app, platform, admin):
    """schemathesis on the jobs and inbox operations (bounded, in-process)."""
    schemathesis = pytest.importorskip("schemathesis")
    from api_conformance import conformance_failures
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    dead_letter(platform)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=admin)
    schema = schema.include(path_regex=r"^/(admin/jobs|inbox)")
    runs = ((GenerationMode.POSITIVE, 10), (GenerationMode.NEGATIVE, 6))
    failures = conformance_failures(schema, admin, checks, runs)
    assert not failures, "\n\n".join(failures)
