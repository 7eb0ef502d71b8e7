"""Transitions, approvals, time in state, effects and hooks on a real database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from runtime_support import build_env

from xrm.core.plugins import hookimpl
from xrm.core.records.errors import RecordVersionMismatch
from xrm.core.records.events import RecordVetoed
from xrm.core.tables import outbox
from xrm.core.workflows.tables import approval, state_log
from xrm.workflow.errors import ApprovalRefused, TransitionRefused


@pytest.fixture
def env(make_app):
    return build_env(make_app)


def quote(env, rid, actor="rep", **kw):
    return env.fire(env.users[actor], rid, "send_quote", values={"valid_until": "2030-01-31"}, **kw)


def test_transitions_lists_what_leaves_the_state_with_reasons(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "100", "discount": "30"})
    with env.tx() as conn:
        out = env.wf.transitions(conn, env.users["rep"], "sales.opportunity", rec["id"])
    assert out["workflow"] == "sales.discount_approval" and out["state"] == "draft"
    assert [s["name"] for s in out["states"]] == ["draft", "quoted", "won", "lost"]
    by_name = {t["name"]: t for t in out["transitions"]}
    assert set(by_name) == {"send_quote", "lose"}
    codes = {r["code"] for r in by_name["send_quote"]["reasons"]}
    assert codes == {"missing_fields", "approvals_pending"}
    assert by_name["lose"]["requires"] == {"fields": ["lost_reason"], "comment": True}


def test_firing_moves_the_state_runs_actions_and_is_audited_with_name_and_comment(env):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "1000.00", "discount": "5"})
    after = env.fire(
        rep, rec["id"], "lose", comment="went elsewhere", values={"lost_reason": "price"}
    )
    assert after["stage"] == "lost" and after["lost_reason"] == "price"
    with env.tx() as conn:
        history = env.records.history(conn, env.users["admin"], "sales.opportunity", rec["id"])
    assert history[0]["transition"] == {
        "workflow": "sales.discount_approval",
        "name": "lose",
        "from": "draft",
        "to": "lost",
        "comment": "went elsewhere",
    }
    assert history[0]["changes"]["stage"] == {"old": "draft", "new": "lost"}


def test_set_fields_actions_write_read_only_fields_and_webhooks_go_to_the_outbox(env):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "1000.00", "discount": "5"})
    after = quote(env, rec["id"])
    assert after["stage"] == "quoted" and after["net_amount"] == "950.00"
    assert after["quoted_at"] is not None
    with env.tx() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.topic == "action.webhook")).all()
    [row] = rows
    payload = json.loads(row.payload)
    assert payload["url"] == "https://erp.example.com/quotes"
    assert payload["payload"] == {"name": "ACME", "net": 950.0}
    assert row.idempotency_key.startswith(f"wf:sales.opportunity:{rec['id']}:")


def test_a_refused_transition_changes_nothing_and_says_why(env):
    rec = env.create(env.users["rep"], {"name": "ACME"})
    with pytest.raises(TransitionRefused) as exc:
        quote(env, rec["id"])
    assert exc.value.status == 422
    assert [r.code for r in exc.value.reasons] == ["guard"]
    assert env.get(rec["id"])["stage"] == "draft"


def test_roles_are_enforced(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    env.fire(env.users["rep"], rec["id"], "lose", comment="x", values={"lost_reason": "y"})
    with pytest.raises(TransitionRefused) as exc:
        env.fire(env.users["rep2"], rec["id"], "reopen")
    assert exc.value.status == 403


def test_multi_level_approvals_are_recorded_and_cleared_on_state_change(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "1000", "discount": "30"})
    rid = rec["id"]
    with pytest.raises(TransitionRefused) as exc:
        quote(env, rid)
    assert exc.value.status == 409 and exc.value.reasons[0].code == "approvals_pending"
    with env.tx() as conn:
        env.wf.approve(
            conn, env.users["manager"], "sales.opportunity", rid, "send_quote", "manager", "ok"
        )
    with env.tx() as conn, pytest.raises(ApprovalRefused):  # one person, one level
        env.wf.approve(
            conn, env.users["manager"], "sales.opportunity", rid, "send_quote", "director"
        )
    with pytest.raises(TransitionRefused):
        quote(env, rid)
    with env.tx() as conn:
        env.wf.approve(
            conn, env.users["director"], "sales.opportunity", rid, "send_quote", "director"
        )
        assert len(env.wf.approval_list(conn, env.users["rep"], "sales.opportunity", rid)) == 2
    assert quote(env, rid)["stage"] == "quoted"
    with env.tx() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(approval)).scalar() == 0


def test_time_in_state_is_logged_per_stay(env):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "10"})
    quote(env, rec["id"])
    with env.tx() as conn:
        stays = env.wf.state_history(conn, rep, "sales.opportunity", rec["id"])
    assert [(s["state"], s["transition"]) for s in stays] == [
        ("draft", None),
        ("quoted", "send_quote"),
    ]
    assert stays[0]["leftAt"] is not None and stays[0]["seconds"] >= 0
    assert stays[1]["leftAt"] is None


@pytest.mark.parametrize(
    "entered",
    [
        dt.datetime(2026, 3, 1, 23, 59, 59, 999999),  # microseconds borrow from the second
        dt.datetime(2026, 2, 28, 0, 0, 0, 1),
        dt.datetime(1999, 12, 31, 12, 30, 15, 500000),
    ],
)
def test_a_closed_stay_counts_its_seconds_to_the_microsecond(env, entered):
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "10"})
    with env.tx() as conn:
        conn.execute(
            state_log.update()
            .where(state_log.c.record_id == rec["id"], state_log.c.left_at.is_(None))
            .values(entered_at=entered)
        )
    quote(env, rec["id"])
    with env.tx() as conn:
        stay = conn.execute(
            sa.select(state_log.c.entered_at, state_log.c.left_at, state_log.c.seconds).where(
                state_log.c.record_id == rec["id"], state_log.c.state == "draft"
            )
        ).one()
    assert stay.entered_at == entered
    # The length is computed by the database now, exactly as Python computes it.
    assert stay.seconds == (stay.left_at - stay.entered_at).total_seconds()


def test_if_match_with_an_old_version_is_a_precondition_failure(env):
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    env.update(env.users["rep"], rec["id"], {"notes": "changed"})
    with pytest.raises(RecordVersionMismatch):
        quote(env, rec["id"], if_match=rec["row_version"])


def test_create_record_action_runs_through_the_record_service(make_app):
    env = build_env(make_app, workflow=False)
    from runtime_support import workflow_doc

    doc = workflow_doc()
    doc["transitions"][1]["actions"] = [
        {
            "type": "createRecord",
            "entity": "sales.account",
            "values": {"name": "'Won: ' + record.name"},
        }
    ]
    env.save("workflow", doc)
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "10"})
    quote(env, rec["id"])
    env.fire(rep, rec["id"], "win")
    with env.tx() as conn:
        t = env.platform.registry.snapshot(conn).entity("sales.account").table
        names = list(conn.execute(sa.select(t.c.name)).scalars())
    assert names == ["Won: ACME"]


class Veto:
    def __init__(self):
        self.seen = []

    @hookimpl
    def xrm_before_transition(self, event):
        self.seen.append(("before", event.transition, event.comment, event.before["stage"]))
        if event.transition == "win":
            raise RecordVetoed("a won deal needs a purchase order", field="notes")

    @hookimpl
    def xrm_after_transition(self, event):
        self.seen.append(("after", event.transition, event.after["stage"]))


def test_transition_hooks_see_the_transition_and_may_veto(make_app):
    probe = Veto()
    env = build_env(make_app, plugins={"probe": probe})
    rep = env.users["rep"]
    rec = env.create(rep, {"name": "ACME", "amount": "10"})
    quote(env, rec["id"])
    with pytest.raises(RecordVetoed):
        env.fire(rep, rec["id"], "win")
    assert env.get(rec["id"])["stage"] == "quoted"
    assert probe.seen == [
        ("before", "send_quote", None, "draft"),
        ("after", "send_quote", "quoted"),
        ("before", "win", None, "quoted"),
    ]


def test_state_log_starts_when_a_record_is_created(env):
    rec = env.create(env.users["rep"], {"name": "ACME"})
    with env.tx() as conn:
        rows = conn.execute(
            sa.select(state_log.c.state, state_log.c.left_at).where(
                state_log.c.record_id == rec["id"]
            )
        ).all()
    assert [tuple(r) for r in rows] == [("draft", None)]
