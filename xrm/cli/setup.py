"""``xrm init``."""

from __future__ import annotations

import secrets

import click
from flask import current_app
from flask.cli import with_appcontext

from .common import platform
from .plugins import fail_on_plugin_error, sync_plugins


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
    help="Create the database schema, install (or upgrade) the plugins, create the first administrator.",
)
@click.option("--admin-username", default="admin", show_default=True)
@click.option("--admin-email", default="admin@example.org", show_default=True)
@click.option("--admin-password", default=None, help="Default: a random password printed once.")
@click.option(
    "--yes", is_flag=True, help="Apply checked/destructive plugin changes without asking."
)
@click.option(
    "--demo",
    is_flag=True,
    help="On a fresh database (no plugin installed before), also load the plugins' demo data.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the demo data (--demo).")
@with_appcontext
@fail_on_plugin_error
def init_command(
    admin_username: str,
    admin_email: str,
    admin_password: str | None,
    yes: bool,
    demo: bool,
    seed: int,
) -> None:
    p = platform()
    p.registry.install()
    # FAB's own view permissions (its security views, menus), synced here once rather than on
    # every start of every worker.
    current_app.appbuilder.add_permissions(update_perms=True)
    click.echo(f"Database ready: {p.engine.url.render_as_string(hide_password=True)}")
    fresh = not p.plugin_states.installed()
    sync_plugins(yes)
    ensure_admin(admin_username, admin_email, admin_password)
    if demo and fresh:
        from ..core.plugins.demo import load_demo
        from .demo import demo_actor

        done = load_demo(
            current_app,
            p,
            demo_actor(admin_username),
            seed=seed,
            progress=lambda name: click.echo(f"  demo data of {name} loaded"),
        )
        click.echo(f"Demo data loaded: {', '.join(done) or 'no plugin has any'}.")
