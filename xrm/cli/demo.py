"""``xrm demo``: load the demo data of the installed plugins."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..core.context import SYSTEM, Actor
from .common import platform
from .plugins import fail_on_plugin_error


def demo_actor(username: str | None) -> Actor:
    """The user the demo records are created by: ``--user``, else the first administrator."""
    sm = current_app.appbuilder.sm
    admin_role = current_app.config.get("AUTH_ROLE_ADMIN", "Admin")
    if username:
        user = sm.find_user(username=username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
    else:
        users = [u for u in sm.get_all_users() if any(r.name == admin_role for r in u.roles)]
        if not users:
            return SYSTEM
        user = min(users, key=lambda u: u.id)
    roles = tuple(r.name for r in user.roles)
    return Actor(user.id, user.username, roles, admin_role in roles)


@click.command("demo", help="Load the demo data of the installed plugins (in dependency order).")
@click.argument("plugins", nargs=-1)
@click.option("--seed", default=0, show_default=True, help="Seed of the random generator.")
@click.option("--force", is_flag=True, help="Load again where demo data was loaded before.")
@click.option("--user", default=None, help="Create the records as this user (default: admin).")
@with_appcontext
@fail_on_plugin_error
def demo_command(plugins: tuple[str, ...], seed: int, force: bool, user: str | None) -> None:
    from ..core.plugins.demo import load_demo

    p = platform()
    done = load_demo(
        current_app,
        p,
        demo_actor(user),
        seed=seed,
        names=list(plugins) or None,
        force=force,
        progress=lambda name: click.echo(f"  demo data of {name} loaded"),
    )
    if not done:
        click.echo("No installed plugin has demo data.")
    else:
        click.echo(f"Demo data loaded (seed {seed}): {', '.join(done)}.")
