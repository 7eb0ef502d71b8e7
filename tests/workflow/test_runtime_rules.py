"""Rule sets in the write path: defaults, computed fields, validation and form rules, roll-ups,
automations (sync, async, depth limit), timers and schedules, on a real database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from runtime_support import build_env

from xrm.core.records.errors import RecordConflict, RecordInvalid
from xrm.core.tables import outbox
from xrm.core.workflows import run_automation
from xrm.core.workflows.tables import automation_run
from xrm.workflow.errors import WorkflowInvalid

RULES = {
    "name": "sales.opportunity_rules",
    "entity": "sales.opportunity",
    "validations": [
        {
            "name": "discount_cap",
            "field": "discount",
            "expression": "record.discount <= 40.0",
            "message": "a discount above 40% is never granted",
        }
    ],
    "computed": [
        {
            "field": "net_amount",
            "expression": "round(record.amount * (1.0 - (record.discount == null ? 0.0 : record.discount) / 100.0), 2)",
        }
    ],
    "defaults": [{"field": "priority", "expression": "'normal'"}],
    "formRules": [
        {
            "name": "lost_reason",
            "when": "record.stage == 'lost'",
            "show": ["lost_reason"],
            "require": ["lost_reason"],
        }
    ],
}

ACCOUNT_RULES = {
    "name": "sales.account_rules",
    "entity": "sales.account",
    "rollups": [
        {
            "field": "open_amount",
            "entity": "sales.opportunity",
            "via": "account",
            "aggregate": "sum",
            "of": "amount",
            "filter": {"stage": ["draft", "quoted"]},
        },
        {"field": "deals", "entity": "sales.opportunity", "via": "account", "aggregate": "count"},
        {
            "field": "biggest",
            "entity": "sales.opportunity",
            "via": "account",
            "aggregate": "max",
            "of": "amount",
        },
    ],
}


@pytest.fixture
def env(make_app):
    e = build_env(make_app)
    e.save("rules", json.loads(json.dumps(RULES)))
    return e


def test_defaults_and_computed_fields_are_applied_on_create_and_update(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "1000", "discount": "10"})
    assert rec["priority"] == "normal" and rec["net_amount"] == "900.00"
    rec = env.update(env.users["rep"], rec["id"], {"discount": "20"})
    assert rec["net_amount"] == "800.00"


def test_validation_rules_refuse_the_write_with_the_rule_named(env):
    with pytest.raises(RecordInvalid) as exc:
        env.create(env.users["rep"], {"name": "ACME", "amount": "1000", "discount": "50"})
    [p] = exc.value.problems
    assert p == {
        "pointer": "/discount",
        "field": "discount",
        "message": "a discount above 40% is never granted",
        "rule": "discount_cap",
    }


def test_form_rules_required_are_enforced_on_the_server(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    with env.tx() as conn, pytest.raises(Exception) as exc:
        env.wf.fire(conn, env.users["rep"], "sales.opportunity", rec["id"], "lose", comment="x")
    assert "lost_reason" in str(exc.value)


def test_a_computed_cycle_is_refused_when_saved(env):
    doc = json.loads(json.dumps(RULES))
    doc["computed"] += [{"field": "amount", "expression": "record.net_amount + 1.0"}]
    with pytest.raises(WorkflowInvalid) as exc:
        env.save("rules", doc)
    assert "cycle" in str(exc.value.problems)


def test_roll_ups_follow_children_created_updated_moved_and_deleted(env):
    env.save("rules", json.loads(json.dumps(ACCOUNT_RULES)))
    admin = env.users["admin"]
    a = env.create(admin, {"name": "A"}, "sales.account")
    b = env.create(admin, {"name": "B"}, "sales.account")
    o1 = env.create(admin, {"name": "1", "amount": "100", "account": a["id"]})
    o2 = env.create(admin, {"name": "2", "amount": "50", "account": a["id"]})
    got = env.get(a["id"], "sales.account")
    assert (got["open_amount"], got["deals"], got["biggest"]) == ("150.00", 2, "100.00")
    env.update(admin, o2["id"], {"amount": "70"})
    assert env.get(a["id"], "sales.account")["open_amount"] == "170.00"
    env.update(admin, o1["id"], {"account": b["id"]})
    assert env.get(a["id"], "sales.account")["deals"] == 1
    assert env.get(b["id"], "sales.account")["open_amount"] == "100.00"
    env.fire(env.users["rep"], o1["id"], "lose", comment="x", values={"lost_reason": "y"})
    assert env.get(b["id"], "sales.account")["open_amount"] is None  # filtered out: no open deals
    with env.tx() as conn:
        env.records.delete(conn, admin, "sales.opportunity", o2["id"])
    got = env.get(a["id"], "sales.account")
    assert (got["deals"], got["open_amount"]) == (0, None)


def _with_automations(env, automations):
    doc = json.loads(json.dumps(RULES))
    doc["automations"] = automations
    env.save("rules", doc)


def test_sync_automation_on_update_only_when_watched_fields_change(env):
    _with_automations(
        env,
        [
            {
                "name": "flag_big",
                "on": "update",
                "fields": ["amount"],
                "when": "record.amount > 500.0",
                "actions": [{"type": "setFields", "values": {"priority": "'high'"}}],
            }
        ],
    )
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    assert env.update(env.users["rep"], rec["id"], {"notes": "x"})["priority"] == "normal"
    assert env.update(env.users["rep"], rec["id"], {"amount": "1000"})["priority"] == "high"
    assert env.get(rec["id"])["priority"] == "high"
    with env.tx() as conn:
        runs = env.wf.automation_runs(conn, env.users["admin"], "sales.opportunity", rec["id"])
    assert [(r["automation"], r["status"]) for r in runs] == [("flag_big", "done")]
    assert runs[0]["steps"] == [{"type": "setFields", "values": {"priority": "high"}}]


def test_async_automation_is_queued_in_the_transaction_and_run_by_the_handler(env):
    _with_automations(
        env,
        [
            {
                "name": "hello",
                "on": "create",
                "mode": "async",
                "actions": [
                    {"type": "notify", "to": {"owner": True}, "subject": "New {{ record.name }}"}
                ],
            }
        ],
    )
    env.create(env.users["rep"], {"name": "ACME"})
    with env.tx() as conn:
        [row] = conn.execute(sa.select(outbox).where(outbox.c.topic == "automation.run")).all()
        result = run_automation(conn, env.platform, json.loads(row.payload))
        assert result["status"] == "done"
        [note] = conn.execute(sa.select(outbox).where(outbox.c.topic == "action.notify")).all()
    assert json.loads(note.payload)["subject"] == "New ACME"
    assert json.loads(note.payload)["users"] == [env.users["rep"].user_id]


def test_automation_loops_stop_at_the_depth_limit_with_a_clear_error(env):
    _with_automations(
        env,
        [
            {
                "name": "spawn",
                "on": "create",
                "actions": [
                    {
                        "type": "createRecord",
                        "entity": "sales.opportunity",
                        "values": {"name": "'copy of ' + record.name"},
                    }
                ],
            }
        ],
    )
    with pytest.raises(RecordConflict) as exc:
        env.create(env.users["rep"], {"name": "ACME"})
    assert "nested automation steps" in str(exc.value)
    with env.tx() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(automation_run)).scalar() == 0


def test_due_timers_fire_transitions_and_actions(env):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "10"})
    env.fire(rep, rec["id"], "send_quote", values={"valid_until": "2030-01-31"})
    with env.tx() as conn:
        assert env.wf.fire_due_timers(conn, dt.datetime(2030, 1, 31, tzinfo=dt.UTC)) == 1  # remind
        assert env.wf.fire_due_timers(conn, dt.datetime(2030, 1, 31, tzinfo=dt.UTC)) == 0  # once
        assert (
            env.wf.fire_due_timers(conn, dt.datetime(2030, 2, 1, 1, tzinfo=dt.UTC)) == 1
        )  # expire
    got = env.get(rec["id"])
    assert (got["stage"], got["lost_reason"]) == ("lost", "quote expired")


def test_date_relative_and_cron_automations(env):
    _with_automations(
        env,
        [
            {
                "name": "remind",
                "on": "date",
                "field": "close_date",
                "offset": "-P1D",
                "actions": [{"type": "setFields", "values": {"notes": "'closing tomorrow'"}}],
            },
            {
                "name": "nightly",
                "on": "schedule",
                "cron": "0 2 * * *",
                "actions": [{"type": "webhook", "url": "https://example.com/nightly"}],
            },
        ],
    )
    rec = env.create(env.users["rep"], {"name": "ACME", "close_date": "2099-06-10"})
    svc = env.wf.automations
    with env.tx() as conn:
        assert svc.run_schedules(conn, dt.datetime(2099, 6, 8, 12)) == 1  # nightly (1 record)
        assert svc.run_schedules(conn, dt.datetime(2099, 6, 9, 1)) == 1  # remind; nightly done
        assert svc.run_schedules(conn, dt.datetime(2099, 6, 9, 1, 30)) == 0
    assert env.get(rec["id"])["notes"] == "closing tomorrow"


def _runs(env, rid):
    """(automation, trigger, status) of the runs on a record, also a deleted one."""
    t = automation_run
    with env.tx() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(t.c.automation, t.c.trigger, t.c.status)
                .where(t.c.entity == "sales.opportunity", t.c.record_id == rid)
                .order_by(t.c.id)
            )
        ]


def test_an_automation_on_delete_runs_with_the_deleted_record(env):
    _with_automations(
        env,
        [
            {
                "name": "gone",
                "on": "delete",
                "when": "record.name == 'ACME'",
                "actions": [
                    {
                        "type": "webhook",
                        "url": "https://example.com/gone",
                        "payload": {"name": "record.name"},
                    }
                ],
            }
        ],
    )
    rep = env.users["rep"]
    kept = env.create(rep, {"name": "Other"})
    rec = env.create(rep, {"name": "ACME"})
    assert _runs(env, rec["id"]) == []  # not on create
    with env.tx() as conn:
        env.records.delete(conn, rep, "sales.opportunity", rec["id"])
        env.records.delete(conn, rep, "sales.opportunity", kept["id"])
    assert _runs(env, rec["id"]) == [("gone", "delete", "done")]
    assert _runs(env, kept["id"]) == [("gone", "delete", "skipped")]  # its condition is false
    with env.tx() as conn:
        [hook] = conn.execute(sa.select(outbox).where(outbox.c.topic == "action.webhook")).all()
    payload = json.loads(hook.payload)
    assert payload["url"] == "https://example.com/gone"
    assert payload["payload"] == {"name": "ACME"}


def test_an_automation_on_delete_may_not_set_fields(env):
    doc = json.loads(json.dumps(RULES))
    doc["automations"] = [
        {
            "name": "gone",
            "on": "delete",
            "actions": [{"type": "setFields", "values": {"notes": "'x'"}}],
        }
    ]
    with pytest.raises(WorkflowInvalid, match="deleted record"):
        env.save("rules", doc)


def test_an_automation_on_a_transition_runs_after_that_transition_only(env):
    _with_automations(
        env,
        [
            {
                "name": "quoted",
                "on": "transition",
                "transition": "send_quote",
                "actions": [{"type": "setFields", "values": {"notes": "'was quoted'"}}],
            },
            {
                "name": "any_move",
                "on": "transition",
                "actions": [{"type": "setFields", "values": {"priority": "'high'"}}],
            },
        ],
    )
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "10"})
    env.update(rep, rec["id"], {"amount": "20"})  # an update is no transition
    assert _runs(env, rec["id"]) == []
    env.fire(rep, rec["id"], "send_quote", values={"valid_until": "2030-01-31"})
    got = env.get(rec["id"])
    assert (got["stage"], got["notes"], got["priority"]) == ("quoted", "was quoted", "high")
    other = env.create(rep, {"name": "Other", "amount": "10"})
    env.fire(rep, other["id"], "lose", comment="x", values={"lost_reason": "price"})
    got = env.get(other["id"])
    assert (got["notes"], got["priority"]) == (None, "high")
    assert _runs(env, other["id"]) == [("any_move", "transition", "done")]
