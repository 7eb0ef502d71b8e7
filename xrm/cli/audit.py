"""``xrm audit purge``: audit retention."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..core.records import audit as audit_log
from .common import platform


@click.group(help="The audit trail.")
def audit() -> None:
    pass


@audit.command("purge")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Keep this many days (default: XRM_AUDIT_RETENTION_DAYS).",
)
@with_appcontext
def purge(days: int | None) -> None:
    """Delete audit entries older than the retention period (now; the periodic job
    ``audit.retention`` does it hourly when XRM_AUDIT_RETENTION_DAYS is set)."""
    days = days if days is not None else platform().settings.audit_retention_days
    if days <= 0:
        raise click.ClickException(
            "give --days N or set XRM_AUDIT_RETENTION_DAYS (entries are kept forever otherwise)"
        )
    with platform().engine.begin() as conn:
        n = audit_log.purge_older_than(conn, days)
    click.echo(f"Deleted {n} audit entries older than {days} days.")
