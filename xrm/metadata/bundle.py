"""Definition bundles: every entity definition as a folder of JSON files, for version control,
review and moving definitions between installations.

A bundle folder holds one file per layer of each entity, the option sets the entities use, and
a manifest that says which file is which layer and where it comes from::

    bundle.json                      the manifest (see below)
    crm.contact/base.json            the base document (from a plugin or an administrator)
    crm.contact/ext_marketing.json   the fields the "marketing" plugin adds (layer ext:marketing)
    crm.contact/custom.json          the administrator's customisation (an RFC 7396 merge patch)
    option-sets/crm.industry.json    a shared option set

``bundle.json``::

    {"format": "xrm.bundle", "formatVersion": 1, "metadataVersion": 7,
     "entities": {"crm.contact": {"source": "plugin:crm", "layers": [
         {"layer": "base", "source": "plugin:crm", "file": "crm.contact/base.json"},
         {"layer": "ext:marketing", "source": "plugin:marketing",
          "file": "crm.contact/ext_marketing.json"},
         {"layer": "custom", "source": "admin", "file": "crm.contact/custom.json"}]}},
     "optionSets": {"crm.industry": "option-sets/crm.industry.json"}}

The manifest is authoritative; file names are only a convention. Export is deterministic (no
timestamps), so exporting an unchanged installation again gives identical files.

Importing goes through the normal path: :meth:`MetadataRegistry.plan` with layer changes, then
:meth:`MetadataRegistry.apply`, so it is validated, checked against the data and applied in one
transaction like any other change. For every entity in the bundle, its layers become exactly the
bundle's (an extension or customisation the bundle does not have is removed; a base layer is
only ever replaced); entities that are not in the bundle are left alone (a bundle never removes
an entity). Importing the same bundle again plans nothing and
keeps the metadata version.

Public API::

    export_bundle(registry, folder) -> list[Path]              write a bundle
    read_bundle(folder) -> list[LayerChange]                   the bundle's layers, as changes
    load_bundle(folder) -> Bundle                              layers, option sets and manifest
    plan_bundle(registry, folder) -> MigrationPlan             what importing would do (dry run)
    import_bundle(registry, folder, *, confirm=False, actor=None, fallbacks=None) -> int
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from jsonschema import Draft202012Validator

from . import store
from .errors import DefinitionInvalid, MetadataError
from .layers import BASE, CUSTOM, EXTENSION_PREFIX, layer_order
from .names import ENTITY_NAME_PATTERN
from .planner import MigrationPlan
from .registry import LayerChange, MetadataRegistry

MANIFEST = "bundle.json"
FORMAT = "xrm.bundle"
FORMAT_VERSION = 1
OPTION_SET_FOLDER = "option-sets"

_RELATIVE_FILE = {"type": "string", "minLength": 1, "pattern": r"^[^/\\].*\.json$"}

#: JSON Schema of ``bundle.json``.
MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["format", "formatVersion", "entities"],
    "properties": {
        "format": {"const": FORMAT},
        "formatVersion": {"type": "integer"},
        "metadataVersion": {"type": "integer"},
        "entities": {
            "type": "object",
            "propertyNames": {"pattern": ENTITY_NAME_PATTERN},
            "additionalProperties": {
                "type": "object",
                "required": ["layers"],
                "additionalProperties": False,
                "properties": {
                    "source": {"type": "string", "minLength": 1},
                    "layers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["layer", "source", "file"],
                            "additionalProperties": False,
                            "properties": {
                                "layer": {
                                    "anyOf": [
                                        {"enum": [BASE, CUSTOM]},
                                        {"type": "string", "pattern": f"^{EXTENSION_PREFIX}.+"},
                                    ]
                                },
                                "source": {"type": "string", "minLength": 1},
                                "file": _RELATIVE_FILE,
                            },
                        },
                    },
                },
            },
        },
        "optionSets": {
            "type": "object",
            "propertyNames": {"pattern": ENTITY_NAME_PATTERN},
            "additionalProperties": _RELATIVE_FILE,
        },
    },
}


@dataclass(frozen=True)
class BundleProblem:
    """One problem with a bundle: the file (relative to the bundle folder) and what is wrong."""

    file: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "message": self.message}

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class BundleInvalid(MetadataError):
    """A bundle folder that cannot be read; ``problems`` names every bad file."""

    status = 422
    title = "Invalid bundle"

    def __init__(self, folder: Path | str, problems: list[BundleProblem]):
        self.folder = str(folder)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"bundle {self.folder} is invalid ({len(self.problems)} problem(s)):\n{lines}"
        )


@dataclass(frozen=True)
class Bundle:
    """A bundle as read from its folder."""

    folder: Path
    manifest: Mapping[str, Any]
    changes: list[LayerChange] = field(default_factory=list)
    option_sets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def entities(self) -> list[str]:
        return sorted(self.manifest.get("entities", {}))


# -- export -------------------------------------------------------------------------------------


def layer_file_name(layer: str) -> str:
    """``base`` -> ``base.json``, ``ext:marketing`` -> ``ext_marketing.json``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", layer) + ".json"


def export_bundle(registry: MetadataRegistry, folder: str | Path) -> list[Path]:
    """Write every live entity (all its layers) and every option set to ``folder``.

    The folder is created if needed. Files of an earlier bundle in the same folder (those its
    manifest lists) are removed first, so the folder holds exactly the current definitions;
    other files are left alone. Returns the written files, the manifest first.
    """
    folder = Path(folder)
    lt = store.entity_layer
    with registry.engine.connect() as conn:
        snap = registry.snapshot(conn)
        rows = conn.execute(
            sa.select(lt.c.entity, lt.c.layer, lt.c.source, lt.c.document).where(
                lt.c.entity.in_(list(snap.entities))
            )
        ).all()
        option_sets = registry.option_sets(conn)

    layers: dict[str, list[tuple[str, str, Any]]] = {}
    for r in rows:
        layers.setdefault(r.entity, []).append((r.layer, r.source, json.loads(r.document)))

    files: dict[str, Any] = {}
    entities: dict[str, Any] = {}
    for name in sorted(layers):
        entries = []
        for layer, source, doc in sorted(layers[name], key=lambda x: layer_order(x[0])):
            rel = f"{name}/{layer_file_name(layer)}"
            files[rel] = doc
            entries.append({"layer": layer, "source": source, "file": rel})
        owner = next((e["source"] for e in entries if e["layer"] == BASE), "admin")
        entities[name] = {"source": owner, "layers": entries}
    sets = {}
    for name in sorted(option_sets):
        rel = f"{OPTION_SET_FOLDER}/{name}.json"
        files[rel] = option_sets[name]
        sets[name] = rel
    manifest = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "metadataVersion": snap.version,
        "entities": entities,
        "optionSets": sets,
    }

    folder.mkdir(parents=True, exist_ok=True)
    _remove_previous_bundle(folder)
    written = [_write_json(folder / MANIFEST, manifest)]
    written += [_write_json(folder / rel, doc) for rel, doc in files.items()]
    return written


def _write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keys keep their order: the order of properties is the order of the fields.
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _remove_previous_bundle(folder: Path) -> None:
    try:
        old = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(old, dict):
        return
    rels = []
    for entry in (old.get("entities") or {}).values():
        for layer in (entry or {}).get("layers") or ():
            if isinstance(layer, dict) and isinstance(layer.get("file"), str):
                rels.append(layer["file"])
    rels += [f for f in (old.get("optionSets") or {}).values() if isinstance(f, str)]
    root = folder.resolve()
    for rel in rels:
        path = _inside(root, rel)
        if path is not None and path.is_file():
            path.unlink()
            if path.parent != root and not any(path.parent.iterdir()):
                path.parent.rmdir()


# -- reading ------------------------------------------------------------------------------------


def read_bundle(folder: str | Path) -> list[LayerChange]:
    """The layers of the bundle in ``folder``, as changes for :meth:`MetadataRegistry.plan`.

    Raises :class:`BundleInvalid` naming every bad file. Option sets are not layer changes:
    use :func:`load_bundle` (or :func:`plan_bundle`) to get them too.
    """
    return load_bundle(folder).changes


def load_bundle(folder: str | Path) -> Bundle:
    """Read and check a bundle folder: manifest, layer files and option set files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleInvalid(folder, [BundleProblem(".", "is not a folder")])
    manifest, problems = _read_json(folder, MANIFEST)
    if problems:
        raise BundleInvalid(folder, problems)
    problems = [
        BundleProblem(MANIFEST, f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}")
        for e in sorted(
            Draft202012Validator(MANIFEST_SCHEMA).iter_errors(manifest),
            key=lambda e: list(map(str, e.absolute_path)),
        )
    ]
    if not problems and manifest["formatVersion"] != FORMAT_VERSION:
        problems.append(
            BundleProblem(
                MANIFEST,
                f"format version {manifest['formatVersion']} is not supported (this version reads "
                f"{FORMAT_VERSION})",
            )
        )
    if problems:
        raise BundleInvalid(folder, problems)

    changes: list[LayerChange] = []
    for name, entry in sorted(manifest["entities"].items()):
        seen: set[str] = set()
        for item in entry["layers"]:
            rel, layer = item["file"], item["layer"]
            if layer in seen:
                problems.append(BundleProblem(MANIFEST, f"{name} lists layer {layer!r} twice"))
                continue
            seen.add(layer)
            doc, file_problems = _read_json(folder, rel)
            problems += file_problems
            if file_problems:
                continue
            if not isinstance(doc, dict):
                problems.append(BundleProblem(rel, "must hold a JSON object"))
                continue
            named = (
                (doc.get("x-xrm") or {}).get("name") if isinstance(doc.get("x-xrm"), dict) else None
            )
            if layer == BASE and named != name:
                problems.append(
                    BundleProblem(
                        rel, f"defines entity {named!r}, but the manifest lists it as {name!r}"
                    )
                )
                continue
            changes.append(LayerChange(name, layer, item["source"], doc))

    option_sets: list[dict[str, Any]] = []
    for name, rel in sorted((manifest.get("optionSets") or {}).items()):
        doc, file_problems = _read_json(folder, rel)
        problems += file_problems
        if file_problems:
            continue
        if not isinstance(doc, dict) or doc.get("name") != name:
            got = doc.get("name") if isinstance(doc, dict) else None
            problems.append(
                BundleProblem(rel, f"must hold the option set {name!r} (found {got!r})")
            )
            continue
        option_sets.append(doc)

    if problems:
        raise BundleInvalid(folder, problems)
    return Bundle(folder=folder, manifest=manifest, changes=changes, option_sets=option_sets)


def _inside(root: Path, rel: str) -> Path | None:
    """``root/rel`` if it stays inside ``root``, else None."""
    path = (root / rel).resolve()
    return path if path == root or root in path.parents else None


def _read_json(folder: Path, rel: str) -> tuple[Any, list[BundleProblem]]:
    path = _inside(folder.resolve(), rel)
    if path is None:
        return None, [BundleProblem(rel, "points outside the bundle folder")]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [BundleProblem(rel, "is missing")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [BundleProblem(rel, f"cannot be read ({exc})")]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [
            BundleProblem(
                rel, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            )
        ]


# -- import -------------------------------------------------------------------------------------


def plan_bundle(registry: MetadataRegistry, folder: str | Path) -> MigrationPlan:
    """Validate the bundle and plan its import, changing nothing (a dry run).

    The plan puts the bundle's layers, removes the layers that the bundle's entities have in
    the database but not in the bundle, and adds or updates the bundle's option sets. Raises
    :class:`BundleInvalid` for bad files and :class:`DefinitionInvalid` (naming the bundle) for
    definitions that do not validate.
    """
    bundle = load_bundle(folder)
    with registry.engine.connect() as conn:
        stored = registry.layers(conn, bundle.entities)
    removals = []
    for name in bundle.entities:
        # The base layer is kept when the bundle has none: its layers then extend the entity.
        kept = {BASE} | {c.layer for c in bundle.changes if c.entity == name}
        for layer in sorted(set(stored.get(name, {})) - kept, key=layer_order):
            removals.append(LayerChange(name, layer, "bundle", None))
    try:
        return registry.plan(changes=[*bundle.changes, *removals], option_sets=bundle.option_sets)
    except DefinitionInvalid as exc:
        raise DefinitionInvalid(f"bundle {bundle.folder}: {exc.subject}", exc.problems) from None


def import_bundle(
    registry: MetadataRegistry,
    folder: str | Path,
    *,
    confirm: bool = False,
    actor: str | None = None,
    fallbacks: Mapping[str, str] | None = None,
) -> int:
    """Plan and apply a bundle in one transaction; returns the metadata version after it.

    Like :meth:`MetadataRegistry.apply`, checked and destructive operations need
    ``confirm=True`` and rows that would not fit refuse the import (unless ``fallbacks`` say
    what to do with them). A bundle that matches the database changes nothing and returns the
    current version. To show the plan first, use :func:`plan_bundle` and apply it yourself.
    """
    plan = plan_bundle(registry, folder)
    return registry.apply(plan, confirm=confirm, actor=actor, fallbacks=fallbacks)


__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "Bundle",
    "BundleInvalid",
    "BundleProblem",
    "export_bundle",
    "import_bundle",
    "load_bundle",
    "plan_bundle",
    "read_bundle",
]
