"""``xrm init`` and ``xrm plugins``."""

from __future__ import annotations

import secrets
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..core.plugins import plugin_layer_changes, plugin_names, plugin_option_sets
from ..metadata.planner import MigrationPlan
from .common import confirm_plan, echo_plan, fail_on_metadata_error, platform


def sync_plugins(yes: bool, actor: str = "cli") -> MigrationPlan | None:
    """Plan and apply the definitions of every loaded plugin."""
    p = platform()
    changes = plugin_layer_changes(p.plugins)
    option_sets = plugin_option_sets(p.plugins)
    if not changes and not option_sets:
        click.echo("No plugin definitions to install.")
        return None
    plan = p.registry.plan(changes=changes, option_sets=option_sets)
    echo_plan(plan)
    if plan.is_empty and not plan.option_sets:
        return plan
    if not confirm_plan(plan, yes):
        sys.exit(1)
    version = p.registry.apply(plan, confirm=True, actor=actor)
    click.echo(f"Plugin definitions applied; metadata version is now {version}.")
    return plan


def ensure_admin(username: str, email: str, password: str | None) -> None:
    sm = current_app.appbuilder.sm
    role = sm.find_role(current_app.config["AUTH_ROLE_ADMIN"])
    if sm.find_user(username=username) is not None:
        click.echo(f"Administrator {username!r} already exists.")
        return
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    user = sm.add_user(username, "Admin", "User", email, role, password=password)
    if not user:
        raise click.ClickException(f"could not create the administrator {username!r}")
    click.echo(f"Created administrator {username!r}.")
    if generated:
        click.echo(f"  password (shown once): {password}")


@click.command(
    "init",
    help="Create the database schema, install plugin definitions, create the first administrator.",
)
@click.option("--admin-username", default="admin", show_default=True)
@click.option("--admin-email", default="admin@example.org", show_default=True)
@click.option("--admin-password", default=None, help="Default: a random password printed once.")
@click.option(
    "--yes", is_flag=True, help="Apply checked/destructive plugin changes without asking."
)
@with_appcontext
@fail_on_metadata_error
def init_command(
    admin_username: str, admin_email: str, admin_password: str | None, yes: bool
) -> None:
    p = platform()
    p.registry.install()
    # FAB's own view permissions (its security views, menus), synced here once rather than on
    # every start of every worker.
    current_app.appbuilder.add_permissions(update_perms=True)
    click.echo(f"Database ready: {p.engine.url.render_as_string(hide_password=True)}")
    sync_plugins(yes)
    ensure_admin(admin_username, admin_email, admin_password)


@click.group(help="Installed plugins.")
def plugins() -> None:
    pass


@plugins.command("list")
@with_appcontext
def list_plugins() -> None:
    pm = platform().plugins
    for name in plugin_names(pm):
        infos = [i for i in pm.hook.xrm_plugin_info() if i and i.get("name") == name]
        info = infos[0] if infos else {}
        click.echo(f"  {name:<12} {info.get('version', '?'):<10} {info.get('label', '')}")


@plugins.command("sync")
@click.option("--yes", is_flag=True, help="Apply checked/destructive changes without asking.")
@with_appcontext
@fail_on_metadata_error
def sync_command(yes: bool) -> None:
    """Install or upgrade the definitions of every loaded plugin."""
    sync_plugins(yes)
