"""``xrm workflows`` and ``xrm rules``: list, show, verify, apply, export, import, history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from .common import fail_on_metadata_error, platform, read_documents


def _group(kind: str, label: str) -> click.Group:
    @click.group(
        name="workflows" if kind == "workflow" else "rules",
        help=f"{label}s: list, show, verify, apply, export, import, history.",
    )
    def group() -> None:
        pass

    @group.command("list")
    @click.option("--entity", default=None)
    @with_appcontext
    def list_(entity):
        from ..core.workflows import documents

        with platform().engine.connect() as conn:
            for item in documents.listing(conn, kind, entity):
                click.echo(
                    f"  {item['name']:<36} {item['entity']:<24} rev {item['revision']:<4} ({item['source']})"
                )

    @group.command("show")
    @click.argument("name")
    @with_appcontext
    @fail_on_metadata_error
    def show(name):
        from ..core.workflows import documents

        with platform().engine.connect() as conn:
            click.echo(
                json.dumps(
                    documents.get(conn, kind, name)["document"], indent=2, ensure_ascii=False
                )
            )

    @group.command("history")
    @click.argument("name")
    @with_appcontext
    @fail_on_metadata_error
    def history(name):
        from ..core.workflows import documents

        with platform().engine.connect() as conn:
            for h in documents.history(conn, kind, name):
                moved = sum(m["count"] for m in h["moved"])
                click.echo(
                    f"  rev {h['revision']:<4} {h['savedAt']}  {h['savedBy'] or ''}  "
                    f"{'removed' if h['document'] is None else ''}{f' {moved} record(s) moved' if moved else ''}"
                )

    @group.command("verify")
    @click.argument("paths", nargs=-1, required=True)
    @with_appcontext
    def verify(paths):
        """Verify documents (files or folders); exit 2 when any has errors."""
        failed = False
        p = platform()
        with p.engine.connect() as conn:
            for doc in read_documents(paths):
                out = p.workflows.verify(conn, kind, doc)
                name = doc.get("name", "?") if isinstance(doc, dict) else "?"
                click.echo(
                    f"{name}: {len(out['errors'])} error(s), {len(out['warnings'])} warning(s)"
                )
                for f in out["errors"]:
                    click.echo(
                        click.style(f"  error   {f['pointer'] or '/'}: {f['message']}", fg="red")
                    )
                for f in out["warnings"]:
                    click.echo(
                        click.style(f"  warning {f['pointer'] or '/'}: {f['message']}", fg="yellow")
                    )
                failed |= bool(out["errors"])
        if failed:
            sys.exit(2)

    def _apply(paths, mapping, dry_run):
        from ..core.workflows.documents import StateMappingNeeded

        pairs = dict(m.split("=", 1) for m in mapping if "=" in m)
        if len(pairs) != len(mapping):
            raise click.BadParameter("expected <old state>=<new state>", param_hint="--map")
        p = platform()
        blocked = False
        try:
            with p.engine.begin() as conn:
                for doc in read_documents(paths):
                    plan = p.workflows.save(
                        conn, kind, doc, actor="cli", mapping=pairs, dry_run=dry_run
                    )
                    errors = sum(f.severity == "error" for f in plan.findings)
                    blocked |= bool(errors)
                    what = (
                        (f"would not save: {errors} error(s)" if errors else "would save")
                        if dry_run
                        else ("unchanged" if plan.unchanged else f"saved revision {plan.revision}")
                    )
                    click.echo(f"{plan.name}: {what}")
                    for m in plan.moves:
                        click.echo(
                            f"  {m['count']} record(s) move from {m['from']!r} to {m['to']!r}"
                        )
                    for f in plan.findings:
                        click.echo(f"  {f.severity} {f.pointer or '/'}: {f.message}")
        except StateMappingNeeded as exc:
            click.echo(click.style(str(exc), fg="red"), err=True)
            click.echo("Give --map <old>=<new> for each removed state.", err=True)
            sys.exit(1)
        if blocked:
            sys.exit(2)

    @group.command("apply")
    @click.argument("paths", nargs=-1, required=True)
    @click.option(
        "--map", "mapping", multiple=True, help="<old state>=<new state> for removed states."
    )
    @click.option("--dry-run", is_flag=True, help="Verify and plan only.")
    @with_appcontext
    @fail_on_metadata_error
    def apply(paths, mapping, dry_run):
        """Verify and save documents in one transaction (errors: nothing is saved)."""
        _apply(paths, mapping, dry_run)

    @group.command("plan")
    @click.argument("paths", nargs=-1, required=True)
    @click.option(
        "--map", "mapping", multiple=True, help="<old state>=<new state> for removed states."
    )
    @with_appcontext
    @fail_on_metadata_error
    def plan(paths, mapping):
        """Verify and plan documents: what apply would save and which records would move
        (nothing is saved; the same as apply --dry-run)."""
        _apply(paths, mapping, True)

    @group.command("import")
    @click.argument("paths", nargs=-1, required=True)
    @click.option("--map", "mapping", multiple=True)
    @with_appcontext
    @fail_on_metadata_error
    def import_(paths, mapping):
        """Same as apply: documents exported from another instance."""
        _apply(paths, mapping, False)

    @group.command("export")
    @click.argument("folder")
    @with_appcontext
    def export(folder):
        """Write every document to <folder>/<name>.json."""
        from ..core.workflows import documents

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        with platform().engine.connect() as conn:
            items = documents.listing(conn, kind)
            for item in items:
                doc = documents.get(conn, kind, item["name"])["document"]
                (out / f"{item['name']}.json").write_text(
                    json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
                )
        click.echo(f"{len(items)} document(s) written to {out}")

    return group


workflows = _group("workflow", "Workflow")
rules = _group("rules", "Rule set")
