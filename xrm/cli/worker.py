"""``xrm worker``: deliver outbox messages (or relay them to Celery) and run periodic jobs
until SIGTERM/SIGINT, which stop it cleanly after the messages in hand."""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import with_appcontext

from .common import platform


@click.command("worker", help="Deliver queued jobs and run periodic jobs until stopped.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--once", is_flag=True, help="Deliver what is due now (and start due periodic jobs), then exit."
)
@click.option("--no-schedule", is_flag=True, help="Do not start periodic jobs from here.")
@click.option(
    "--relay/--deliver",
    default=None,
    help="Publish to Celery (default when XRM_JOBS=celery) or deliver here.",
)
@with_appcontext
def worker_command(threads: int, once: bool, no_schedule: bool, relay: bool | None) -> None:
    from ..core.jobs.dispatcher import worker_name
    from ..core.jobs.runner import JobRunner
    from ..core.jobs.scheduler import Scheduler

    p = platform()
    jobs = p.jobs
    runner = JobRunner(
        p, jobs, threads=threads, relay=relay, schedule=not no_schedule, kind="worker"
    )
    if once:
        pump = runner.pump(0)
        if not no_schedule:
            Scheduler(p, jobs, worker_name("worker")).tick()
        done = pump.drain()
        outcomes: dict[str, int] = {}
        for d in done:
            if d is not None:
                outcomes[d.outcome] = outcomes.get(d.outcome, 0) + 1
        summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "nothing due"
        click.echo(f"Delivered: {summary}.")
        return
    stop = threading.Event()

    def _stop(signum, _frame) -> None:
        click.echo(f"Received {signal.Signals(signum).name}: stopping after the current jobs.")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.start()
    mode = "relaying to Celery" if runner.relay else "delivering"
    click.echo(f"xrm worker {mode} with {threads} thread(s); topics: {', '.join(jobs.topics())}")
    while not stop.wait(0.5):
        if not runner.alive:
            raise click.ClickException("the worker threads stopped unexpectedly")
    if runner.stop(timeout=60):
        click.echo("Stopped.")
    else:
        raise click.ClickException("some jobs did not finish within 60 s; their leases will expire")
