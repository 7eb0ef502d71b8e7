"""``xrm entities ...`` drives the same plan/apply as everything else."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from xrm.cli import main

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "properties": {"name": {"type": "string"}, "size": {"type": "string"}},
}


@pytest.fixture
def cli(database_url, tmp_path):
    env = {
        "XRM_DATABASE_URL": database_url,
        "XRM_INSTANCE_PATH": str(tmp_path / "instance"),
        "XRM_SECRET_KEY": "cli-test",
        "XRM_PLUGINS_ALLOW": "none",
        "FLASK_APP": "",
    }

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return run


def write(tmp_path, doc, name="def.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_plan_shows_operations_and_changes_nothing(cli, tmp_path):
    res = cli("entities", "plan", write(tmp_path, ACCOUNT))
    assert res.exit_code == 0, res.output
    assert "create entity crm.account" in res.output
    assert "0 entities" in cli("entities", "list").output


def test_apply_then_list_and_show(cli, tmp_path):
    res = cli("entities", "apply", write(tmp_path, ACCOUNT))
    assert res.exit_code == 0, res.output
    assert "metadata version is now 1" in res.output
    assert "crm.account" in cli("entities", "list").output
    shown = json.loads(cli("entities", "show", "crm.account").output)
    assert shown["x-xrm"]["name"] == "crm.account"


def test_invalid_definition_exits_2_with_every_problem(cli, tmp_path):
    bad = {
        "x-xrm": {"name": "Bad Name"},
        "required": ["nope"],
        "properties": {"id": {"type": "string"}},
    }
    res = cli("entities", "apply", write(tmp_path, bad))
    assert res.exit_code == 2
    assert "/x-xrm/name" in res.output
    assert "/required/0" in res.output
    assert "/properties/id" in res.output


def test_destructive_apply_needs_yes(cli, tmp_path):
    cli("entities", "apply", write(tmp_path, ACCOUNT))
    smaller = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}
    path = write(tmp_path, smaller, "v2.json")
    res = cli("entities", "apply", path)
    assert res.exit_code == 1
    assert "--yes" in res.output
    assert "size" in cli("entities", "show", "crm.account").output
    res = cli("entities", "apply", path, "--yes")
    assert res.exit_code == 0, res.output
    assert "size" not in cli("entities", "show", "crm.account").output


def test_history_lists_revisions(cli, tmp_path):
    cli("entities", "apply", write(tmp_path, ACCOUNT))
    out = cli("entities", "history", "crm.account").output
    assert "r1 v1" in out


def test_init_creates_the_administrator_with_a_printed_password(cli):
    res = cli("init")
    assert res.exit_code == 0, res.output
    assert "password (shown once):" in res.output
    again = cli("init")
    assert "already exists" in again.output
    assert "password (shown once)" not in again.output


def test_export_then_import_into_an_empty_database_reproduces_the_entities(
    cli, tmp_path, database_url
):
    cli("entities", "apply", write(tmp_path, ACCOUNT))
    bundle = tmp_path / "bundle"
    res = cli("entities", "export", str(bundle))
    assert res.exit_code == 0, res.output
    assert (bundle / "bundle.json").exists()
    assert "Nothing to change." in cli("entities", "import", str(bundle)).output


def test_import_of_a_missing_folder_is_a_clear_error(cli, tmp_path):
    res = cli("entities", "import", str(tmp_path / "nope"))
    assert res.exit_code != 0
    assert "nope" in res.output
