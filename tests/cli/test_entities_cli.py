"""``xrm entities ...`` drives the same plan/apply as everything else."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
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


def _insert_accounts(database_url, *sizes):
    """Rows of crm.account written with plain SQL (the CLI has no record command)."""
    engine = sa.create_engine(database_url)
    try:
        table = sa.Table("crm_account", sa.MetaData(), autoload_with=engine)
        now = dt.datetime(2026, 1, 1)
        with engine.begin() as conn:
            for size in sizes:
                conn.execute(
                    table.insert().values(name=size, size=size, created_at=now, updated_at=now)
                )
    finally:
        engine.dispose()


def _read(database_url, fn):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def _sizes(database_url) -> dict:
    """name -> size of every crm.account row."""
    q = "SELECT name, size FROM crm_account ORDER BY id"
    return _read(database_url, lambda conn: dict(conn.exec_driver_sql(q).all()))


def _column_names(database_url) -> list[str]:
    return _read(
        database_url, lambda conn: [c["name"] for c in sa.inspect(conn).get_columns("crm_account")]
    )


INTEGER_SIZE = {
    "x-xrm": {"name": "crm.account"},
    "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
}


def test_apply_refuses_rows_that_do_not_convert_unless_a_null_fallback_is_given(
    cli, tmp_path, database_url
):
    cli("entities", "apply", write(tmp_path, ACCOUNT))
    _insert_accounts(database_url, "12", "twelve")
    path = write(tmp_path, INTEGER_SIZE, "v2.json")
    res = cli("entities", "apply", path, "--yes")
    assert res.exit_code == 1
    assert "twelve" in res.output
    assert _sizes(database_url) == {"12": "12", "twelve": "twelve"}
    res = cli("entities", "apply", path, "--yes", "--fallback", "crm.account.size=null")
    assert res.exit_code == 0, res.output
    assert _sizes(database_url) == {"12": 12, "twelve": None}


def test_a_fallback_other_than_null_is_a_usage_error(cli, tmp_path):
    cli("entities", "apply", write(tmp_path, ACCOUNT))
    res = cli(
        "entities",
        "apply",
        write(tmp_path, INTEGER_SIZE),
        "--yes",
        "--fallback",
        "crm.account.size=0",
    )
    assert res.exit_code == 2
    assert "<entity>.<field>=null" in res.output


def test_purge_drops_the_archived_column_of_a_removed_field(cli, tmp_path, database_url):
    cli("entities", "apply", write(tmp_path, ACCOUNT))
    _insert_accounts(database_url, "big")
    smaller = {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}}}
    assert cli("entities", "apply", write(tmp_path, smaller, "v2.json"), "--yes").exit_code == 0
    archived = [c for c in _column_names(database_url) if c.endswith("_size")]
    assert archived and archived[0].startswith("xa_")
    res = cli("entities", "purge", "crm.account", "size", input="n\n")
    assert res.exit_code == 1
    assert archived[0] in _column_names(database_url)
    res = cli("entities", "purge", "crm.account", "size", "--yes")
    assert res.exit_code == 0, res.output
    assert "Purged 1 archived field(s)." in res.output
    assert not [c for c in _column_names(database_url) if c.endswith("_size")]
