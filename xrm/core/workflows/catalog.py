"""The active workflows and rule sets, compiled once per version and cached per process.

A :class:`Catalog` is immutable and belongs to one metadata version: saving a workflow or rule
set bumps the metadata version counter (in the same transaction), so every process notices on
its next request (the registry reads the counter anyway) and builds a new catalog. Documents
whose text and entity did not change are not compiled again: the :class:`CompiledCache` is keyed
by the document's and the entities' fingerprints.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import MetadataSnapshot
from ...workflow import CompiledCache, CompiledWorkflow, WorkflowInvalid, check_workflow
from ...workflow.rules import CompiledRuleSet, check_rules
from .extras import CompiledExtras, compile_extras
from .tables import document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Catalog:
    version: int
    workflows: Mapping[str, CompiledWorkflow] = field(default_factory=dict)
    rules: Mapping[str, CompiledRuleSet] = field(default_factory=dict)
    #: Roll-ups and automations of each rule set.
    extras: Mapping[str, CompiledExtras] = field(default_factory=dict)
    #: (kind, name) -> error messages of stored documents that no longer compile (an entity
    #: changed underneath); they are not enforced until fixed, and listed as invalid.
    broken: Mapping[tuple[str, str], list[str]] = field(default_factory=dict)
    #: entity -> engine_written(entity), filled on first use (the catalog never changes).
    _written: dict[str, Mapping[str, str]] = field(default_factory=dict, compare=False, repr=False)

    #: (question, entity) -> answer: the catalog is immutable, and every write asks these.
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def workflows_of(self, entity: str) -> tuple[CompiledWorkflow, ...]:
        found = self._memo.get(("w", entity))
        if found is None:
            found = self._memo["w", entity] = tuple(
                w for n, w in sorted(self.workflows.items()) if w.entity.name == entity
            )
        return found

    def rules_of(self, entity: str) -> tuple[CompiledRuleSet, ...]:
        found = self._memo.get(("r", entity))
        if found is None:
            found = self._memo["r", entity] = tuple(
                r for n, r in sorted(self.rules.items()) if r.entity.name == entity
            )
        return found

    def extras_of(self, entity: str) -> tuple[CompiledExtras, ...]:
        found = self._memo.get(("x", entity))
        if found is None:
            found = self._memo["x", entity] = tuple(
                x for n, x in sorted(self.extras.items()) if x.entity == entity
            )
        return found

    def rollups_over(self, child: str) -> list[tuple[str, Any]]:
        """(parent entity, roll-up) pairs that aggregate records of ``child``."""
        found = self._memo.get(("u", child))
        if found is None:
            found = self._memo["u", child] = tuple(
                (x.entity, r) for x in self.extras.values() for r in x.rollups if r.child == child
            )
        return list(found)

    def engine_written(self, entity: str) -> Mapping[str, str]:
        """field -> what writes it: the computed fields and roll-ups of ``entity``, which users
        cannot write (the engine does)."""
        known = self._written.get(entity)
        if known is not None:
            return known
        out: dict[str, str] = {}
        for rs in self.rules_of(entity):
            for name in rs.computed_fields:
                out[name] = f"computed by rule set {rs.definition.name!r}"
        for x in self.extras_of(entity):
            for r in x.rollups:
                out[r.field] = (
                    f"a roll-up ({r.aggregate}) of {r.child} kept by rule set {x.rules!r}"
                )
        return out

    def touches(self, entity: str) -> bool:
        found = self._memo.get(("t", entity))
        if found is None:
            found = self._memo["t", entity] = bool(
                self.workflows_of(entity)
                or self.rules_of(entity)
                or self.extras_of(entity)
                or self.rollups_over(entity)
            )
        return found


class CatalogCache:
    """Per process: the catalog of the current metadata version."""

    def __init__(self, functions: Any = None):
        self.compiled = CompiledCache(maxsize=1024)
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self.functions = functions

    def current(self, conn: sa.Connection, snap: MetadataSnapshot) -> Catalog:
        cat = self._catalog
        if cat is not None and cat.version == snap.version:
            return cat
        with self._lock:
            cat = self._catalog
            if cat is None or cat.version != snap.version:
                cat = self.build(conn, snap)
                if self._catalog is None or cat.version >= self._catalog.version:
                    self._catalog = cat
        return cat

    def build(self, conn: sa.Connection, snap: MetadataSnapshot) -> Catalog:
        entities = snap.definitions
        workflows, rules, extras, broken = {}, {}, {}, {}
        rows = conn.execute(sa.select(document.c.kind, document.c.name, document.c.document))
        for r in rows.all():
            doc = json.loads(r.document)
            try:
                entity = entities.get(doc.get("entity"))
                if entity is None:
                    raise LookupError(f"entity {doc.get('entity')!r} does not exist")
                if r.kind == "workflow":
                    workflows[r.name] = check_workflow(doc, entity, entities, cache=self.compiled)
                else:
                    rules[r.name] = check_rules(doc, entity, cache=self.compiled)
                    extras[r.name] = compile_extras(doc, entity, entities, cache=self.compiled)
            except (WorkflowInvalid, LookupError) as exc:
                problems = getattr(exc, "problems", None) or [exc]
                broken[(r.kind, r.name)] = [str(p) for p in problems]
                log.error("%s %s no longer compiles: %s", r.kind, r.name, broken[(r.kind, r.name)])
        return Catalog(snap.version, workflows, rules, extras, broken)
