"""``xrm workflows`` on a real database."""

from __future__ import annotations

import json

from runtime_support import build_env, workflow_doc

from xrm.cli import main


def run(app, *args):
    return app.test_cli_runner().invoke(main, list(args), catch_exceptions=False)


def test_verify_apply_list_export_history(make_app, tmp_path):
    env = build_env(make_app, workflow=False)
    good = tmp_path / "wf.json"
    good.write_text(json.dumps(workflow_doc()))
    bad_doc = workflow_doc()
    bad_doc["transitions"][0]["to"] = "nowhere"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_doc))
    res = run(env.app, "workflows", "verify", str(bad))
    assert res.exit_code == 2 and "/transitions/0/to" in res.output
    res = run(env.app, "workflows", "apply", str(good))
    assert res.exit_code == 0 and "saved revision 1" in res.output
    assert "sales.discount_approval" in run(env.app, "workflows", "list").output
    res = run(env.app, "workflows", "export", str(tmp_path / "out"))
    assert (
        json.loads((tmp_path / "out" / "sales.discount_approval.json").read_text())["name"]
        == "sales.discount_approval"
    )
    assert "rev 1" in run(env.app, "workflows", "history", "sales.discount_approval").output


def test_plan_shows_the_records_a_removed_state_would_move_and_saves_nothing(make_app, tmp_path):
    env = build_env(make_app)
    for name in ("A", "B"):
        env.create(env.users["rep"], {"name": name, "amount": "10"})
    doc = workflow_doc()
    del doc["states"]["draft"]
    doc["states"]["quoted"]["initial"] = True
    doc["transitions"] = [
        t for t in doc["transitions"] if t["name"] not in ("send_quote", "reopen")
    ]
    doc["transitions"][1]["from"] = ["quoted"]
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(doc))
    res = run(env.app, "workflows", "plan", str(path))
    assert res.exit_code == 2  # a mapping is needed
    assert "would not save: 1 error(s)" in res.output
    assert "/mapping/draft: state 'draft' is removed and 2 record(s) are in it" in res.output
    res = run(env.app, "workflows", "plan", str(path), "--map", "draft=lost")
    assert res.exit_code == 0, res.output
    assert "sales.discount_approval: would save" in res.output
    assert "2 record(s) move from 'draft' to 'lost'" in res.output
    assert "rev 2" not in run(env.app, "workflows", "history", "sales.discount_approval").output
    assert {env.get(r)["stage"] for r in (1, 2)} == {"draft"}
