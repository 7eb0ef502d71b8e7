"""``xrm plugins ...`` and ``xrm demo`` drive the lifecycle; plans are shown first."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo
from plugin_samples import Catalog, Orders

from xrm.cli import main
from xrm.core.plugins import hookimpl


class DemoCatalog(Catalog):
    @hookimpl
    def xrm_demo_data(self, context):
        for i in range(context.random.randint(2, 5)):
            context.records.create(
                context.conn, context.actor, "catalog.product", {"title": f"demo {i}"}
            )


@pytest.fixture
def cli(make_app):
    def run(*args, plugins=None, input=None):
        plugins = plugins or {"catalog": DemoCatalog(), "orders": Orders()}
        info = ScriptInfo(create_app=lambda: make_app(plugins=plugins))
        return CliRunner().invoke(main, list(args), obj=info, input=input)

    return run


def count(cli_app_engine, table):
    with cli_app_engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def test_list_shows_loaded_plugins_in_dependency_order_with_their_state(cli):
    res = cli("plugins", "list")
    assert res.exit_code == 0, res.output
    lines = [line.split() for line in res.output.strip().splitlines()]
    assert [(line[0], line[2]) for line in lines] == [
        ("catalog", "available"),
        ("orders", "available"),
    ]
    cli("plugins", "install", "catalog")
    assert "installed" in cli("plugins", "list").output.splitlines()[0]


def test_install_dry_run_shows_the_plan_and_changes_nothing(cli):
    res = cli("plugins", "install", "catalog", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "create entity catalog.product" in res.output
    assert "role Catalog Editor: create" in res.output
    assert "Dry run: nothing changed." in res.output
    assert "available" in cli("plugins", "list").output


def test_install_in_dependency_order_and_a_missing_dependency_fails_clearly(cli):
    res = cli("plugins", "install", "orders")
    assert res.exit_code == 1
    assert "'orders' requires 'catalog>=1.0', which is not installed" in res.output
    res = cli("plugins", "install", "catalog", "orders")
    assert res.exit_code == 0, res.output
    assert "Plugin catalog installed (1.0.0)." in res.output
    assert "Plugin orders installed (1.0.0)." in res.output


def test_uninstall_refuses_data_loss_and_purge_archives(cli, make_app):
    cli("plugins", "install", "catalog")
    cli("demo")
    res = cli("plugins", "uninstall", "catalog", "--yes")
    assert res.exit_code == 1
    assert "cannot be uninstalled while its entities hold data: catalog.product" in res.output
    res = cli("plugins", "uninstall", "catalog", "--purge", "--yes")
    assert res.exit_code == 0, res.output
    assert "archived table" in res.output
    assert "available" in cli("plugins", "list").output


def test_uninstall_without_yes_off_a_terminal_does_nothing(cli):
    cli("plugins", "install", "catalog")
    res = cli("plugins", "uninstall", "catalog")
    assert res.exit_code == 1 and "--yes" in res.output
    assert "installed" in cli("plugins", "list").output


def test_disable_and_enable(cli):
    cli("plugins", "install", "catalog", "orders")
    res = cli("plugins", "disable", "catalog")
    assert res.exit_code == 1 and "'orders' depend(s) on it" in res.output
    assert cli("plugins", "disable", "orders").exit_code == 0
    assert "disabled" in cli("plugins", "list").output.splitlines()[1]
    assert cli("plugins", "enable", "orders").exit_code == 0
    assert "disabled" not in cli("plugins", "list").output


def test_a_risky_upgrade_needs_yes(cli):
    cli("plugins", "install", "catalog")
    smaller = Catalog(version="1.1.0", fields={"name": {"type": "string"}})
    res = cli("plugins", "upgrade", "catalog", plugins={"catalog": smaller})
    assert res.exit_code == 1
    assert "remove field title" in res.output and "--yes" in res.output
    res = cli("plugins", "upgrade", "catalog", "--yes", plugins={"catalog": smaller})
    assert res.exit_code == 0, res.output
    assert "Plugin catalog upgraded (1.1.0)." in res.output


def test_demo_loads_once_per_database_unless_forced(cli, make_app):
    cli("plugins", "install", "catalog")
    res = cli("demo", "--seed", "3")
    assert res.exit_code == 0, res.output
    assert "demo data of catalog loaded" in res.output
    again = cli("demo", "--seed", "3")
    assert again.exit_code == 1
    assert "already has demo data of 'catalog'" in again.output
    assert cli("demo", "--seed", "3", "--force").exit_code == 0


def test_demo_is_deterministic_for_a_seed(cli, make_app, database_url):
    import random

    cli("plugins", "install", "catalog")
    cli("demo", "--seed", "42")
    expected = random.Random(42).randint(2, 5)
    engine = sa.create_engine(database_url)
    try:
        assert count(engine, "catalog_product") == expected
    finally:
        engine.dispose()


def test_init_installs_every_loaded_plugin_in_dependency_order(cli):
    res = cli("init", "--admin-password", "pw-for-tests-only")
    assert res.exit_code == 0, res.output
    assert res.output.index("install catalog") < res.output.index("install orders")
    again = cli("init", "--admin-password", "pw-for-tests-only")
    assert "Plugins are installed and up to date." in again.output


def test_init_with_demo_loads_demo_data_only_on_a_fresh_database(cli):
    res = cli("init", "--admin-password", "pw-for-tests-only", "--demo")
    assert res.exit_code == 0, res.output
    assert "demo data of catalog loaded" in res.output
    again = cli("init", "--admin-password", "pw-for-tests-only", "--demo")
    assert again.exit_code == 0, again.output
    assert "demo data" not in again.output
