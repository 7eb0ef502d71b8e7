"""The workflow runtime on the job system: async automations and their notifications are
delivered by the dispatcher after commit; timers and schedules are periodic jobs."""

from __future__ import annotations

import json

import sqlalchemy as sa
from runtime_support import build_env
from test_runtime_rules import RULES

from xrm.core.jobs import Dispatcher, inbox
from xrm.core.workflows.tables import automation_run


def test_async_automation_and_its_notification_are_delivered_after_commit(make_app):
    env = build_env(make_app)
    doc = json.loads(json.dumps(RULES))
    doc["automations"] = [
        {
            "name": "hello",
            "on": "create",
            "mode": "async",
            "actions": [
                {"type": "notify", "to": {"owner": True}, "subject": "New {{ record.name }}"}
            ],
        }
    ]
    env.save("rules", doc)
    rep = env.users["rep"]
    env.create(rep, {"name": "ACME"})
    done = Dispatcher(env.platform, env.platform.jobs).drain()
    assert {d.outcome for d in done if d is not None} == {"done"}
    with env.tx() as conn:
        notes = inbox.page(conn, rep.user_id)
        runs = conn.execute(sa.select(automation_run.c.automation, automation_run.c.mode)).all()
    items = notes["items"] if isinstance(notes, dict) else notes
    assert [n["subject"] for n in items] == ["New ACME"]
    assert [tuple(r) for r in runs] == [("hello", "async")]


def test_timers_and_schedules_are_periodic_jobs(make_app):
    app = make_app(WORKFLOW_PERIODIC_JOBS=True)
    jobs = app.extensions["xrm"].jobs
    assert {"workflow.timers", "workflow.schedules"} <= set(jobs.periodics)
    assert jobs.resolve("automation.run") is not None
