"""The embedded default: ``XRM_JOBS=inline`` starts a jobs thread in the application with its
first request; it delivers what the requests commit and runs periodic jobs."""

from __future__ import annotations

from jobs_support import FAST_RETRIES, wait_for

from xrm.core.jobs.integration import RUNNER_KEY, stop_runner


def test_the_app_thread_delivers_messages_and_runs_periodic_jobs(make_app, receiver):
    app = make_app(**{**FAST_RETRIES, "JOBS": "inline"})
    p = app.extensions["xrm"]
    ticks = []
    p.jobs.periodic("test.heartbeat", every_seconds=1)(lambda ctx, job: ticks.append(job.key))
    assert RUNNER_KEY not in app.extensions  # nothing runs before the first request
    try:
        app.test_client().get("/api/v1/inbox")  # 401, but the app is serving now
        assert app.extensions[RUNNER_KEY].alive
        from xrm.core.jobs import enqueue

        with p.engine.begin() as conn:
            enqueue(conn, "action.webhook", "inline-1", {"url": receiver.url})
        wait_for(lambda: receiver.requests, timeout=30)
        wait_for(lambda: ticks, timeout=30)
    finally:
        assert stop_runner(app, timeout=30)
    assert receiver.requests[0]["headers"]["X-Xrm-Idempotency-Key"] == "inline-1"
    assert ticks[0].startswith("periodic:test.heartbeat:")


def test_worker_mode_and_tests_start_no_thread_in_the_app(make_app):
    for config in ({"JOBS": "worker"}, {}):
        app = make_app(**config)
        app.test_client().get("/api/v1/inbox")
        assert RUNNER_KEY not in app.extensions
