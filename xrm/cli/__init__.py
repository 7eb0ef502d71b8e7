"""The ``xrm`` command line: a Flask CLI group built on :func:`xrm.create_app`."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from .audit import audit
from .demo import demo_command
from .entities import entities
from .jobs import jobs
from .plugins import plugins
from .setup import init_command
from .worker import worker_command
from .workflows import rules, workflows


def _create_app():
    from .. import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=True,
    help="xRM platform administration.",
)
def main() -> None:
    pass


main.add_command(init_command)
main.add_command(entities)
main.add_command(plugins)
main.add_command(audit)
main.add_command(demo_command)
main.add_command(workflows)
main.add_command(rules)
main.add_command(worker_command)
main.add_command(jobs)
