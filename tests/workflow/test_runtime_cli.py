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
