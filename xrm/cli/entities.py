"""``xrm entities``: list, show, plan, apply, export, import, history, purge."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from ..metadata.model import thaw
from .common import confirm_plan, echo_plan, fail_on_metadata_error, platform, read_documents


@click.group(help="Entity definitions: list, show, plan, apply, export, import.")
def entities() -> None:
    pass


@entities.command("list")
@with_appcontext
def list_entities() -> None:
    snap = platform().registry.snapshot()
    click.echo(f"metadata version {snap.version}, {len(snap.entities)} entities")
    for e in snap.entities.values():
        d = e.definition
        click.echo(f"  {d.name:<30} {d.label_plural:<30} {len(d.fields):>3} fields  ({d.layer})")


@entities.command("show")
@click.argument("name")
@with_appcontext
@fail_on_metadata_error
def show_entity(name: str) -> None:
    ce = platform().registry.snapshot().entity(name)
    click.echo(json.dumps(thaw(ce.definition.document), indent=2, ensure_ascii=False))


def _fallbacks(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, what = v.partition("=")
        if not sep or what != "null":
            raise click.BadParameter(
                f"{v!r}: expected <entity>.<field>=null", param_hint="--fallback"
            )
        out[key] = what
    return out


@entities.command("plan")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@with_appcontext
@fail_on_metadata_error
def plan_entities(paths: tuple[str, ...], as_json: bool) -> None:
    """Show what applying the definition files (or folders) would change. Changes nothing."""
    plan = platform().registry.plan(read_documents(paths))
    if as_json:
        click.echo(json.dumps(plan.as_dict(), indent=2, default=str))
    else:
        echo_plan(plan)


@entities.command("apply")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--yes", is_flag=True, help="Apply checked and destructive operations without asking."
)
@click.option(
    "--fallback", multiple=True, help="<entity>.<field>=null: rows that do not convert become null."
)
@with_appcontext
@fail_on_metadata_error
def apply_entities(paths: tuple[str, ...], yes: bool, fallback: tuple[str, ...]) -> None:
    """Plan, confirm and apply definition files in one transaction."""
    reg = platform().registry
    plan = reg.plan(read_documents(paths))
    echo_plan(plan)
    if plan.is_empty and not plan.option_sets:
        return
    if not confirm_plan(plan, yes):
        sys.exit(1)
    version = reg.apply(plan, confirm=True, fallbacks=_fallbacks(fallback), actor="cli")
    click.echo(f"Applied; metadata version is now {version}.")


@entities.command("history")
@click.argument("name")
@with_appcontext
@fail_on_metadata_error
def history(name: str) -> None:
    for rev in platform().registry.history(name):
        ops = ", ".join(o["description"] for o in rev["operations"]) or "no schema change"
        click.echo(
            f"  r{rev['revision']} v{rev['metadataVersion']} {rev['appliedAt']} by {rev['appliedBy']}: {ops}"
        )


@entities.command("export")
@click.argument("folder")
@with_appcontext
@fail_on_metadata_error
def export_entities(folder: str) -> None:
    """Write every definition (all layers) to FOLDER as a bundle."""
    from ..metadata.bundle import export_bundle

    files = export_bundle(platform().registry, folder)
    click.echo(f"Wrote {len(files)} file(s) to {folder}.")


@entities.command("import")
@click.argument("folder")
@click.option(
    "--yes", is_flag=True, help="Apply checked and destructive operations without asking."
)
@with_appcontext
@fail_on_metadata_error
def import_entities(folder: str, yes: bool) -> None:
    """Plan and apply a bundle folder written by ``xrm entities export``."""
    from ..metadata.bundle import plan_bundle

    reg = platform().registry
    plan = plan_bundle(reg, folder)
    echo_plan(plan)
    if plan.is_empty and not plan.option_sets:
        return
    if not confirm_plan(plan, yes):
        sys.exit(1)
    version = reg.apply(plan, confirm=True, actor="cli")
    click.echo(f"Imported; metadata version is now {version}.")


@entities.command("purge")
@click.argument("name")
@click.argument("field", required=False)
@click.option("--yes", is_flag=True, help="Do not ask.")
@with_appcontext
def purge(name: str, field: str | None, yes: bool) -> None:
    """Drop the archived data of removed fields of NAME (or of one FIELD) for good."""
    if not yes and not click.confirm(
        f"Permanently delete archived data of {name}{'.' + field if field else ''}?"
    ):
        sys.exit(1)
    n = platform().registry.purge(name, field)
    click.echo(f"Purged {n} archived field(s).")


__all__ = ["entities"]
