"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app

from ..metadata.errors import DefinitionInvalid, MetadataError
from ..metadata.planner import MigrationPlan, Risk


def platform():
    return current_app.extensions["xrm"]


def read_documents(paths: tuple[str, ...]) -> list[dict[str, Any]]:
    """JSON documents from files, or from every *.json of the given folders."""
    docs = []
    for raw in paths:
        path = Path(raw)
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for f in files:
            try:
                docs.append(json.loads(f.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise click.ClickException(f"{f}: cannot read a JSON document ({exc})") from None
    if not docs:
        raise click.ClickException("no definition documents given")
    return docs


def echo_plan(plan: MigrationPlan) -> None:
    if plan.is_empty and not plan.option_sets:
        click.echo("Nothing to change.")
    for oset in plan.option_sets:
        click.echo(
            f"  [{click.style('safe', fg='green')}] option set {oset['name']}: {len(oset['options'])} options"
        )
    colours = {Risk.SAFE: "green", Risk.CHECKED: "yellow", Risk.DESTRUCTIVE: "red"}
    for i, op in enumerate(plan.operations):
        risk = op.risk_of
        click.echo(f"  [{click.style(risk.value, fg=colours[risk])}] {op.entity}: {op.describe()}")
        check = plan.checks.get(i)
        if check:
            click.echo(f"      {check['failing']} row(s) would not fit")
            for s in check.get("samples", []):
                click.echo(f"        e.g. {json.dumps(s, default=str)}")
    for p in plan.problems:
        click.echo(click.style(f"  cannot: {p.message}", fg="red"))


def fail_on_metadata_error(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DefinitionInvalid as exc:
            click.echo(click.style(str(exc), fg="red"), err=True)
            sys.exit(2)
        except MetadataError as exc:
            click.echo(click.style(f"{exc.title}: {exc}", fg="red"), err=True)
            sys.exit(1)

    return wrapper


def confirm_plan(plan: MigrationPlan, yes: bool) -> bool:
    """Checked and destructive operations need a confirmation (or --yes)."""
    if plan.risk is Risk.SAFE or yes:
        return True
    if not sys.stdin.isatty():
        click.echo(
            "The plan has checked or destructive operations; run again with --yes to apply.",
            err=True,
        )
        return False
    return click.confirm(f"Apply this {plan.risk.value} plan?", default=False)
