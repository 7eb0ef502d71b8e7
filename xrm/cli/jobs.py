"""``xrm jobs``: the dead letters and other outbox messages from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..core.jobs import admin as jobs_admin
from ..core.jobs.errors import JobError
from ..core.jobs.store import STATUSES
from .common import platform


@click.group(help="Queued, delivered and dead jobs (outbox messages).")
def jobs() -> None:
    pass


@jobs.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="e.g. dead for the dead letters.")
@click.option("--topic", help="Exact topic, or a prefix ending in '*'.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@with_appcontext
def list_jobs(status: str | None, topic: str | None, limit: int) -> None:
    with platform().engine.connect() as conn:
        page = jobs_admin.page(conn, status=status, topic=topic, limit=limit)
        counts = jobs_admin.counts(conn)
    for j in page["items"]:
        error = f"  {j['lastError']}" if j["lastError"] else ""
        click.echo(
            f"{j['id']:>8}  {j['status']:<9} {j['attempts']:>2}x  {j['topic']:<24} {j['key']}{error}"
        )
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "No jobs.")


@jobs.command("show")
@click.argument("job_id", type=int)
@with_appcontext
def show_job(job_id: int) -> None:
    with platform().engine.connect() as conn:
        click.echo(json.dumps(_call(jobs_admin.get, conn, job_id), indent=2, default=str))


@jobs.command("retry")
@click.argument("job_ids", type=int, nargs=-1, required=True)
@with_appcontext
def retry_jobs(job_ids: tuple[int, ...]) -> None:
    """Deliver dead (or discarded, skipped, waiting) jobs again now."""
    for job_id in job_ids:
        with platform().engine.begin() as conn:
            _call(jobs_admin.retry, conn, job_id)
        click.echo(f"Job {job_id} queued again.")


@jobs.command("discard")
@click.argument("job_ids", type=int, nargs=-1, required=True)
@with_appcontext
def discard_jobs(job_ids: tuple[int, ...]) -> None:
    """Never deliver these dead or waiting jobs."""
    for job_id in job_ids:
        with platform().engine.begin() as conn:
            _call(jobs_admin.discard, conn, job_id)
        click.echo(f"Job {job_id} discarded.")


def _call(fn, conn, job_id: int):
    try:
        return fn(conn, job_id)
    except JobError as exc:
        raise click.ClickException(str(exc)) from None
