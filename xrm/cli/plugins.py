"""``xrm plugins``: list, show, install, upgrade, enable, disable, uninstall, sync.

Like ``xrm entities apply``: the plan is shown first; checked and destructive operations ask
(or need ``--yes``); ``--dry-run`` shows the plan and changes nothing.
"""

from __future__ import annotations

import functools
import json
import sys

import click
from flask.cli import with_appcontext

from ..core.context import Actor
from ..core.plugins import PluginError
from ..core.plugins.change import PluginChange
from ..core.plugins.lifecycle import PluginLifecycle
from ..metadata.planner import Risk
from .common import confirm_plan, echo_plan, fail_on_metadata_error, platform

CLI_ACTOR = Actor(user_id=None, username="cli", roles=("Admin",), is_admin=True)


def fail_on_plugin_error(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PluginError as exc:
            click.echo(click.style(f"{exc.title}: {exc}", fg="red"), err=True)
            sys.exit(1)

    return fail_on_metadata_error(wrapper)


def lifecycle() -> PluginLifecycle:
    return PluginLifecycle(platform())


def echo_change(change: PluginChange) -> None:
    versions = " -> ".join(v for v in (change.from_version, change.to_version) if v)
    click.echo(f"{change.action} {change.plugin} {versions}".rstrip())
    if change.definitions is not None:
        echo_plan(change.definitions)
    for line in change.describe():
        click.echo(f"  {line}")
    for w in change.warnings:
        click.echo(click.style(f"  warning: {w}", fg="yellow"))


def _confirmed(change: PluginChange, yes: bool) -> bool:
    if change.definitions is None or change.risk is Risk.SAFE:
        return True
    return confirm_plan(change.definitions, yes)


@click.group(help="Plugins: list, show, install, upgrade, enable, disable, uninstall.")
def plugins() -> None:
    pass


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@with_appcontext
@fail_on_plugin_error
def list_plugins(as_json: bool) -> None:
    """Every loaded plugin (and any installed one whose package is gone), with its state."""
    from ..core.plugins.catalogue import catalogue

    items = catalogue(platform())
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    if not items:
        click.echo("No plugins loaded.")
    for p in items:
        installed = p["installed"] or {}
        version = p["version"] or "-"
        if installed and installed["installedVersion"] != p["version"]:
            version = f"{installed['installedVersion']} ({p['version'] or 'missing'} available)"
        click.echo(f"  {p['name']:<14} {version:<22} {p['status']:<14} {p['label']}")


@plugins.command("show")
@click.argument("name")
@with_appcontext
@fail_on_plugin_error
def show_plugin(name: str) -> None:
    from ..core.plugins.catalogue import describe

    click.echo(json.dumps(describe(platform(), name), indent=2))


def _run(name: str, action: str, yes: bool, dry_run: bool) -> None:
    lc = lifecycle()
    change = getattr(lc, f"plan_{action}")(name)
    echo_change(change)
    if dry_run:
        click.echo("Dry run: nothing changed.")
        return
    if not _confirmed(change, yes):
        sys.exit(1)
    done = getattr(lc, action)(name, actor=CLI_ACTOR, confirm=True)
    for w in done.warnings:
        if w not in change.warnings:
            click.echo(click.style(f"  warning: {w}", fg="yellow"))
    past = {"install": "installed", "upgrade": "upgraded"}[action]
    click.echo(f"Plugin {name} {past} ({done.to_version}).")


@plugins.command("install")
@click.argument("names", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Apply checked/destructive changes without asking.")
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@with_appcontext
@fail_on_plugin_error
def install_command(names: tuple[str, ...], yes: bool, dry_run: bool) -> None:
    """Install plugins: definitions, option sets, roles, workflows, data migrations."""
    for name in names:
        _run(name, "install", yes, dry_run)


@plugins.command("upgrade")
@click.argument("names", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Apply checked/destructive changes without asking.")
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@with_appcontext
@fail_on_plugin_error
def upgrade_command(names: tuple[str, ...], yes: bool, dry_run: bool) -> None:
    """Upgrade installed plugins to the loaded version; administrators' layers are kept."""
    for name in names:
        _run(name, "upgrade", yes, dry_run)


@plugins.command("enable")
@click.argument("name")
@with_appcontext
@fail_on_plugin_error
def enable_command(name: str) -> None:
    """Enable an installed plugin: its hooks run, its menus and dashboards show."""
    lifecycle().set_enabled(name, True, actor=CLI_ACTOR)
    click.echo(f"Plugin {name} enabled.")


@plugins.command("disable")
@click.argument("name")
@with_appcontext
@fail_on_plugin_error
def disable_command(name: str) -> None:
    """Disable a plugin: its hooks stop, its menus and dashboards hide; its data stays."""
    lifecycle().set_enabled(name, False, actor=CLI_ACTOR)
    click.echo(f"Plugin {name} disabled (its data is kept).")


@plugins.command("uninstall")
@click.argument("name")
@click.option(
    "--purge",
    is_flag=True,
    help="Also when its entities hold data: archive them (tables renamed and kept).",
)
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@with_appcontext
@fail_on_plugin_error
def uninstall_command(name: str, purge: bool, yes: bool, dry_run: bool) -> None:
    """Uninstall a plugin. Refused while its entities hold data, unless --purge."""
    lc = lifecycle()
    change = lc.plan_uninstall(name, purge=purge)
    echo_change(change)
    if dry_run:
        click.echo("Dry run: nothing changed.")
        return
    if change.has_definition_changes and not yes:
        if not sys.stdin.isatty():
            click.echo("Uninstalling removes entities; run again with --yes.", err=True)
            sys.exit(1)
        if not click.confirm(f"Uninstall {name}?", default=False):
            sys.exit(1)
    done = lc.uninstall(name, purge=purge, actor=CLI_ACTOR)
    for t in done.archived_tables:
        click.echo(f"  archived table {t} (kept in the database)")
    click.echo(f"Plugin {name} uninstalled.")


def sync_plugins(yes: bool) -> None:
    """Install every loaded plugin not installed yet and upgrade those whose version moved,
    in dependency order (what ``xrm init`` does)."""
    lc = lifecycle()
    installed = lc.installed()
    infos = lc.infos()
    from ..core.plugins import plugin_names

    todo = []
    for name in plugin_names(lc.pm):
        if name not in installed:
            todo.append((name, "install"))
        elif installed[name].version != infos[name].version:
            todo.append((name, "upgrade"))
    if not todo:
        click.echo("Plugins are installed and up to date.")
    for name, action in todo:
        _run(name, action, yes, dry_run=False)


@plugins.command("sync")
@click.option("--yes", is_flag=True, help="Apply checked/destructive changes without asking.")
@with_appcontext
@fail_on_plugin_error
def sync_command(yes: bool) -> None:
    """Install new plugins and upgrade changed ones, in dependency order."""
    sync_plugins(yes)
