"""The metadata registry: definitions in the database, compiled snapshots, plan and apply.

One registry per process (it lives on the application, not in a module global). It reads the
version counter on each request (:meth:`MetadataRegistry.snapshot`) and swaps in a freshly
compiled immutable snapshot when another process has applied a change. An authenticated API
request reads the version in the same statement as its caller's user and roles
(:func:`xrm.metadata.store.note_version`), so the check costs no statement of its own there.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from . import store
from .compiler import MetadataSnapshot, compile_snapshot
from .errors import (
    DefinitionInvalid,
    DefinitionProblem,
    OptionSetInUse,
    PlanRefused,
    StalePlan,
    UnknownEntity,
    UnknownOptionSet,
)
from .layers import BASE, CUSTOM, EXTENSION_PREFIX, effective_document, make_merge_patch
from .migrator import (
    ApplyContext,
    check_plan,
    execute_plan,
    needs_sqlite_rebuild,
    purge_archived,
    refuse_failing_checks,
)
from .model import EntityDefinition, parse_definition, parse_field, thaw
from .notify import DEFAULT_POLL_SECONDS, VersionListener, notify_change
from .optionsets import check_option_set, is_option_set, resolve, used_sets
from .planner import MigrationPlan, Risk, plan_changes
from .validation import check_all, normalize_document


@dataclass(frozen=True)
class LayerChange:
    """Put (or, with ``document=None``, remove) one layer of one entity."""

    entity: str
    layer: str
    source: str
    document: Mapping[str, Any] | None


@dataclass
class AppliedChange:
    """Handed to apply hooks, inside the transaction, after the DDL."""

    version: int
    plan: MigrationPlan
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    actor: str | None = None
    snapshot: MetadataSnapshot | None = None


ApplyHook = Callable[[sa.Connection, AppliedChange], None]
#: A check of a plan against what depends on the definitions but lives elsewhere (stored
#: workflows and rule sets): (conn, current snapshot, plan) -> blocking problems. Run when a
#: plan is made (the problems are in ``plan.problems``) and again inside the apply transaction.
PlanCheck = Callable[[sa.Connection, MetadataSnapshot, MigrationPlan], list[DefinitionProblem]]

#: Listeners inherited by a forked child: never closed there (the connection is the parent's).
_INHERITED: list[VersionListener] = []


class MetadataRegistry:
    """``listen``: on PostgreSQL, skip the per-request version read while a LISTEN connection
    guarantees nothing changed (see :mod:`xrm.metadata.notify`); at least every
    ``poll_seconds`` the version is read anyway. Call :meth:`close` to stop listening."""

    def __init__(
        self,
        engine: sa.Engine,
        apply_hooks: Sequence[ApplyHook] = (),
        *,
        listen: bool = False,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ):
        self.engine = engine
        self.apply_hooks: list[ApplyHook] = list(apply_hooks)
        #: Registered by the layers above (the workflow runtime); see :data:`PlanCheck`.
        self.plan_checks: list[PlanCheck] = []
        self._snapshot: MetadataSnapshot | None = None
        self._lock = threading.Lock()
        self.listen = listen and engine.dialect.name == "postgresql"
        self.poll_seconds = poll_seconds
        self.listener: VersionListener | None = None
        #: (listener, its generation, monotonic time, version) of the last version read.
        self._checked: tuple[VersionListener | None, int, float, int] = (None, -1, 0.0, -1)
        #: entity -> (stored definition text, source, parsed definition) of the last load.
        self._parsed: dict[str, tuple[str, str, EntityDefinition]] = {}

    # -- reading ------------------------------------------------------------------------------

    def install(self) -> None:
        """Create the platform's tables (idempotent)."""
        with self.engine.begin() as conn:
            store.install(conn)

    def version(self, conn: sa.Connection | None = None) -> int:
        if conn is not None:
            return store.read_version(conn)
        with self.engine.connect() as c:
            return store.read_version(c)

    def snapshot(self, conn: sa.Connection | None = None) -> MetadataSnapshot:
        """The snapshot of the current version; recompiled only when the version moved."""
        listener = self.listener
        if listener is not None and listener.pid == os.getpid():
            snap, (checked_by, generation, at, version) = self._snapshot, self._checked
            if (
                checked_by is listener
                and snap is not None
                and snap.version == version
                and time.monotonic() - at < self.poll_seconds
                and listener.fresh(generation)
            ):
                return snap
        elif self.listen:
            self._start_listener()
            listener = self.listener
        if conn is None:
            with self.engine.connect() as c:
                return self.snapshot(c)
        # Within one transaction the version is read once: the record service, the workflow
        # engine and the query runner each ask for the snapshot, several times per write. A
        # change applied in between replaces ``self._snapshot`` (or, in this transaction,
        # clears the memo in ``store.bump_version``), which ends the memo.
        tx = conn.get_transaction()
        memo = conn.info.get(store.SNAPSHOT_MEMO)
        if memo is not None and memo[0] is tx and memo[1] is self and memo[2] is self._snapshot:
            return memo[2]
        generation = listener.generation if listener is not None else -1  # before the read
        # An authenticated request has already read the version in this transaction, in the
        # statement that loads the caller's user and roles (``actor_of``): no round trip here.
        version = store.take_noted_version(conn)
        # A noted version was read before ``generation`` was taken, so it cannot vouch for
        # the listener's freshness (a notification may have come in between).
        read_here = version is None
        if read_here:
            version = store.read_version(conn)
        snap = self._snapshot
        if snap is None or snap.version != version:
            with self._lock:
                snap = self._snapshot
                if snap is None or snap.version != version:
                    snap = self._load(conn)
                    if self._snapshot is None or snap.version >= self._snapshot.version:
                        self._snapshot = snap
        if snap.version == version:
            if read_here or listener is None:
                self._checked = (listener, generation, time.monotonic(), version)
            if tx is not None:
                conn.info[store.SNAPSHOT_MEMO] = (tx, self, snap)
        return snap

    def _start_listener(self) -> None:
        with self._lock:
            if self.listener is None or self.listener.pid != os.getpid():
                if self.listener is not None:  # inherited through fork: the parent's connection
                    _INHERITED.append(self.listener)
                listener = VersionListener(self.engine.url).start()
                # Stop listening when the registry is dropped without close().
                weakref.finalize(self, listener.close, 0)
                self.listener = listener

    def close(self) -> None:
        """Stop the LISTEN connection (if any)."""
        self.listen = False
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()

    @property
    def current(self) -> MetadataSnapshot | None:
        """The last snapshot this process compiled, without asking the database."""
        return self._snapshot

    def _load(self, conn: sa.Connection) -> MetadataSnapshot:
        # Read the version before and after the definitions: equal means a consistent pair.
        for _ in range(10):
            before = store.read_version(conn)
            rows = conn.execute(
                sa.select(
                    store.entity.c.name, store.entity.c.definition, store.entity.c.source
                ).where(store.entity.c.archived_table.is_(None))
            ).all()
            after = store.read_version(conn)
            if before == after:
                # A stored definition whose text did not change since the last load is not
                # parsed again; the compiler then reuses its compiled entity as well.
                parsed, known = {}, self._parsed
                for r in rows:
                    hit = known.get(r.name)
                    if hit is not None and hit[0] == r.definition and hit[1] == r.source:
                        parsed[r.name] = hit
                    else:
                        defn = parse_definition(json.loads(r.definition), layer=r.source)
                        parsed[r.name] = (r.definition, r.source, defn)
                self._parsed = parsed
                return compile_snapshot(
                    after, [p[2] for p in parsed.values()], previous=self._snapshot
                )
            # Not equal: another process committed in between (READ COMMITTED); read again.
            # Never roll back here: the connection may carry the caller's transaction.
        raise StalePlan("metadata kept changing while it was being read")

    def layers(
        self, conn: sa.Connection, entities: Iterable[str] | None = None
    ) -> dict[str, dict[str, dict]]:
        q = sa.select(store.entity_layer)
        if entities is not None:
            q = q.where(store.entity_layer.c.entity.in_(list(entities)))
        out: dict[str, dict[str, dict]] = {}
        for r in conn.execute(q):
            out.setdefault(r.entity, {})[r.layer] = json.loads(r.document)
        return out

    def _layer_sources(
        self, conn: sa.Connection, entities: Iterable[str]
    ) -> dict[tuple[str, str], str]:
        lt = store.entity_layer
        rows = conn.execute(
            sa.select(lt.c.entity, lt.c.layer, lt.c.source).where(lt.c.entity.in_(list(entities)))
        )
        return {(r.entity, r.layer): r.source for r in rows}

    def sources(self, conn: sa.Connection) -> dict[str, str]:
        return dict(
            conn.execute(
                sa.select(store.entity_layer.c.entity, store.entity_layer.c.source).where(
                    store.entity_layer.c.layer == BASE
                )
            ).all()
        )

    def history(self, entity: str) -> list[dict[str, Any]]:
        h = store.entity_history
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(h).where(h.c.entity == entity).order_by(h.c.id)).all()
        if not rows:
            raise UnknownEntity(entity)
        return [
            {
                "revision": r.revision,
                "metadataVersion": r.metadata_version,
                "definition": json.loads(r.definition) if r.definition else None,
                "operations": json.loads(r.operations),
                "appliedAt": r.applied_at.isoformat() + "Z",
                "appliedBy": r.applied_by,
            }
            for r in rows
        ]

    # -- planning -----------------------------------------------------------------------------

    def changes_for_documents(
        self, documents: Iterable[Mapping[str, Any]], source: str = "admin"
    ) -> list[LayerChange]:
        """Turn whole definition documents into layer changes.

        An administrator's document for an entity a plugin owns becomes (or replaces) the
        customisation layer: the merge patch from the plugin's definition to the document.
        """
        documents = list(documents)
        with self.engine.connect() as conn:
            self.snapshot(conn)
            sources = self.sources(conn)
            names = [_name_of(d) for d in documents]
            current_layers = self.layers(conn, [n for n in names if n])
        out = []
        for doc, name in zip(documents, names, strict=True):
            owner = sources.get(name)
            if name and owner and owner != source and source == "admin":
                below = {k: v for k, v in current_layers.get(name, {}).items() if k != CUSTOM}
                # Both sides normalized: the keywords normalization fills in ($schema, type,
                # enum from options) are not customisations.
                patch = make_merge_patch(
                    _normalized(effective_document(below)), _normalized(thaw(doc))
                )
                out.append(LayerChange(name, CUSTOM, "admin", patch or None))
            else:
                out.append(LayerChange(name or "", BASE, source, thaw(doc)))
        return out

    def plan(
        self,
        documents: Iterable[Mapping[str, Any]] = (),
        *,
        source: str = "admin",
        changes: Iterable[LayerChange] = (),
        removed: Iterable[str] = (),
        option_sets: Iterable[Mapping[str, Any]] = (),
        dependants: bool = True,
    ) -> MigrationPlan:
        """Validate and plan. Raises :class:`DefinitionInvalid` with every problem; returns a
        plan whose checked operations carry the counted rows that would not fit.

        ``dependants``: run the :attr:`plan_checks` (stored workflows and rule sets that the
        change would break are blocking problems). The plugin lifecycle turns it off: it
        replaces the plugin's documents in the same transaction.

        ``documents`` may mix entity definitions and option sets (documents with ``options``
        and no ``x-xrm``); a changed option set replans every entity that uses it."""
        documents = list(documents)
        set_docs = [
            check_option_set(d) for d in [*option_sets, *(d for d in documents if is_option_set(d))]
        ]
        documents = [d for d in documents if not is_option_set(d)]
        # A document without a usable name (or not an object at all) cannot be layered; it is
        # validated with the batch below, which reports why it is invalid.
        unnamed = [d for d in documents if _name_of(d) is None]
        named = [d for d in documents if _name_of(d) is not None]
        all_changes = [*self.changes_for_documents(named, source), *changes]
        removed = tuple(removed)
        with self.engine.connect() as conn:
            snap = self.snapshot(conn)
            stored_sets = self.option_sets(conn)
            changed_sets = {s["name"]: s for s in set_docs if stored_sets.get(s["name"]) != s}
            sets = {**stored_sets, **changed_sets}
            touched = {c.entity for c in all_changes}
            if changed_sets:
                touched |= {
                    n
                    for n, e in snap.entities.items()
                    if used_sets(thaw(e.definition.document)) & set(changed_sets)
                }
            layers = self.layers(conn, touched)
            # A change that puts a layer exactly as it is stored changes nothing: dropping it
            # makes planning the same documents again an empty plan that keeps the version.
            stored_sources = self._layer_sources(conn, touched)
            all_changes = [c for c in all_changes if not _is_noop(c, layers, stored_sources)]
            for c in all_changes:
                if c.document is None:
                    layers.get(c.entity, {}).pop(c.layer, None)
                else:
                    layers.setdefault(c.entity, {})[c.layer] = thaw(c.document)
            docs, problems = [], []
            for name in sorted(touched):
                doc = effective_document(layers.get(name, {}))
                if doc is None:
                    problems.append(
                        DefinitionProblem(
                            "",
                            f"entity {name!r} has no base definition (extend or customise an existing entity)",
                        )
                    )
                    continue
                doc, unresolved = resolve(doc, sets)
                problems += [
                    DefinitionProblem(f"{name}#{p.pointer}", p.message) for p in unresolved
                ]
                docs.append(doc)
            if problems:
                raise DefinitionInvalid("change", problems)
            existing = {n: d for n, d in snap.definitions.items() if n not in removed}
            new_defs = check_all([*docs, *unnamed], existing)
            for c in all_changes:
                if c.layer == BASE:
                    for d in new_defs:
                        if d.name == c.entity:
                            new_defs[new_defs.index(d)] = _with_layer(d, c.source)
            new_map = {}
            for d in new_defs:
                if (
                    d.name in snap.definitions
                    and d.layer == "admin"
                    and snap.definitions[d.name].layer != "admin"
                ):
                    d = _with_layer(d, snap.definitions[d.name].layer)
                new_map[d.name] = d
            # The entities to archive must be planned against the current definitions.
            plan = plan_changes(
                snap.definitions,
                new_map,
                removed,
                base_version=snap.version,
                archived=self.archived_fields(conn, set(new_map)),
            )
            # An entity with neither operations nor a changed layer gets no new revision.
            layered = {c.entity for c in all_changes}
            planned = {op.entity for op in plan.operations}
            plan.definitions = {n: d for n, d in plan.definitions.items() if n in layered | planned}
            plan.layer_changes = all_changes  # type: ignore[attr-defined]
            plan.option_sets = list(changed_sets.values())  # type: ignore[attr-defined]
            plan.checks = check_plan(conn, plan, snap)
            for check in self.plan_checks if dependants else ():
                plan.problems.extend(check(conn, snap, plan))
        return plan

    # -- applying -----------------------------------------------------------------------------

    def apply(
        self,
        plan: MigrationPlan,
        *,
        confirm: bool = False,
        fallbacks: Mapping[str, str] | None = None,
        actor: str | None = None,
    ) -> int:
        """Apply a plan in ONE transaction: DDL, data conversion, definition and layer rows,
        history, apply hooks (permission rows) and the version bump. Returns the new version.

        Checked and destructive operations need ``confirm=True``. Rows that would not fit make
        it refuse (unless a fallback says what to do with them); nothing is half-applied.
        """
        fallbacks = dict(fallbacks or {})
        if plan.problems:
            raise PlanRefused(
                "the plan contains changes that cannot be made: "
                + "; ".join(p.message for p in plan.problems),
                [p.as_dict() for p in plan.problems],
            )
        layer_changes: list[LayerChange] = getattr(plan, "layer_changes", [])
        if plan.is_empty and not layer_changes and not getattr(plan, "option_sets", None):
            return plan.base_version if plan.base_version is not None else self.version()
        if plan.risk is not Risk.SAFE and not confirm:
            raise PlanRefused(
                f"the plan has {plan.risk.value} operations: "
                + "; ".join(op.describe() for op in plan.operations if op.risk_of is not Risk.SAFE)
                + ". Confirm to apply."
            )
        with self.engine.connect() as conn:
            rebuild = conn.dialect.name == "sqlite" and needs_sqlite_rebuild(plan)
            if rebuild:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    new_snap = self._apply_in_transaction(
                        conn, plan, fallbacks, actor, layer_changes, dependants=True
                    )
                    if rebuild:
                        bad = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if bad:
                            raise PlanRefused(
                                f"foreign key check failed after the change: {bad[:5]}"
                            )
            finally:
                if rebuild:
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            if self._snapshot is None or new_snap.version > self._snapshot.version:
                self._snapshot = new_snap
        return new_snap.version

    def apply_in(
        self,
        conn: sa.Connection,
        plan: MigrationPlan,
        *,
        confirm: bool = False,
        fallbacks: Mapping[str, str] | None = None,
        actor: str | None = None,
    ) -> MetadataSnapshot:
        """Apply a plan inside the CALLER's transaction (which commits or rolls back together
        with its own writes, e.g. a plugin install). The snapshot cache is not touched: after
        a rollback call :meth:`discard_snapshot`. On SQLite a plan for which
        ``needs_sqlite_rebuild`` holds needs ``PRAGMA foreign_keys=OFF`` before BEGIN."""
        if plan.problems:
            raise PlanRefused(
                "the plan contains changes that cannot be made: "
                + "; ".join(p.message for p in plan.problems),
                [p.as_dict() for p in plan.problems],
            )
        if plan.risk is not Risk.SAFE and not confirm:
            raise PlanRefused(
                f"the plan has {plan.risk.value} operations: "
                + "; ".join(op.describe() for op in plan.operations if op.risk_of is not Risk.SAFE)
                + ". Confirm to apply."
            )
        return self._apply_in_transaction(
            conn, plan, dict(fallbacks or {}), actor, getattr(plan, "layer_changes", [])
        )

    def discard_snapshot(self) -> None:
        """Forget the cached snapshot (it may have been compiled inside a transaction that
        was rolled back); the next :meth:`snapshot` compiles the committed version."""
        with self._lock:
            self._snapshot = None

    def _apply_in_transaction(
        self, conn, plan, fallbacks, actor, layer_changes, dependants: bool = False
    ) -> MetadataSnapshot:
        version = store.lock_version(conn)
        if plan.base_version is not None and version != plan.base_version:
            raise StalePlan(
                f"the metadata changed since this plan was made (version {plan.base_version} -> "
                f"{version}); plan again"
            )
        current = (
            self._snapshot
            if self._snapshot and self._snapshot.version == version
            else self._load(conn)
        )
        plan.checks = check_plan(conn, plan, current)
        refuse_failing_checks(plan, fallbacks)
        if dependants:
            # Checked again under the version lock: what was stored since the plan counts.
            blocking = [p for check in self.plan_checks for p in check(conn, current, plan)]
            if blocking:
                raise PlanRefused(
                    "the change would break what depends on it: "
                    + "; ".join(p.message for p in blocking),
                    [p.as_dict() for p in blocking],
                )
        new_version = version + 1
        defs = {n: d for n, d in current.definitions.items() if n not in plan.removed}
        defs.update(plan.definitions)
        new_snap = compile_snapshot(new_version, defs.values(), previous=current)
        execute_plan(ApplyContext(conn, current, new_snap, new_version, fallbacks), plan)
        self._write_definitions(conn, plan, current, new_version, actor, layer_changes)
        self._write_option_sets(conn, getattr(plan, "option_sets", []))
        change = AppliedChange(
            version=new_version,
            plan=plan,
            created=[n for n in plan.definitions if n not in current.entities],
            changed=[n for n in plan.definitions if n in current.entities],
            removed=list(plan.removed),
            actor=actor,
            snapshot=new_snap,
        )
        for hook in self.apply_hooks:
            hook(conn, change)
        store.bump_version(conn, version)
        notify_change(conn)
        return new_snap

    def _write_definitions(self, conn, plan, current, version, actor, layer_changes) -> None:
        now = store.utcnow()
        lt, et, ht = store.entity_layer, store.entity, store.entity_history
        for c in layer_changes:
            conn.execute(lt.delete().where(lt.c.entity == c.entity, lt.c.layer == c.layer))
            if c.document is not None:
                conn.execute(
                    lt.insert().values(
                        entity=c.entity,
                        layer=c.layer,
                        source=c.source,
                        document=store.dumps(c.document),
                        updated_at=now,
                    )
                )
        ops_by_entity: dict[str, list] = {}
        for op in plan.operations:
            ops_by_entity.setdefault(op.entity, []).append(op.as_dict())
        all_layers = self.layers(conn, list(plan.definitions) + list(plan.removed))
        for name, defn in plan.definitions.items():
            existing = conn.execute(sa.select(et.c.revision).where(et.c.name == name)).scalar()
            revision = (existing or 0) + 1
            doc = store.dumps(defn.document)
            values = dict(
                source=defn.layer,
                revision=revision,
                metadata_version=version,
                definition=doc,
                updated_at=now,
                archived_table=None,
            )
            if existing is None:
                conn.execute(et.insert().values(name=name, **values))
            else:
                conn.execute(et.update().where(et.c.name == name).values(**values))
            conn.execute(
                ht.insert().values(
                    entity=name,
                    revision=revision,
                    metadata_version=version,
                    definition=doc,
                    layers=store.dumps(all_layers.get(name, {})),
                    operations=json.dumps(ops_by_entity.get(name, [])),
                    applied_at=now,
                    applied_by=actor,
                )
            )
        for name in plan.removed:
            revision = conn.execute(sa.select(et.c.revision).where(et.c.name == name)).scalar() or 0
            conn.execute(lt.delete().where(lt.c.entity == name))
            conn.execute(
                ht.insert().values(
                    entity=name,
                    revision=revision + 1,
                    metadata_version=version,
                    definition=None,
                    layers="{}",
                    operations=json.dumps(ops_by_entity.get(name, [])),
                    applied_at=now,
                    applied_by=actor,
                )
            )

    def archived_fields(
        self, conn: sa.Connection, entities: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """entity -> field -> FieldSpec of removed fields whose data is still archived."""
        t = store.archived_column
        rows = conn.execute(
            sa.select(t.c.entity, t.c.field, t.c.field_definition)
            .where(t.c.entity.in_(list(entities)), t.c.reason == "removed")
            .order_by(t.c.id)
        ).all()
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            doc = json.loads(r.field_definition)
            out.setdefault(r.entity, {})[r.field] = parse_field(
                r.field, doc["property"], doc["required"]
            )
        return out

    def purge(self, entity: str, field: str | None = None) -> int:
        """Drop the archived data of removed fields of ``entity`` (or of one field) for good.
        On SQLite a table rebuild runs with foreign keys off (SQLite's 12-step procedure), so
        no ON DELETE action fires on other tables."""
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    n = purge_archived(conn, entity, field)
                    if sqlite:
                        bad = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if bad:
                            raise PlanRefused(f"foreign key check failed after purging: {bad[:5]}")
            finally:
                if sqlite:
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        return n

    def _write_option_sets(self, conn: sa.Connection, sets: list[Mapping[str, Any]]) -> None:
        t = store.option_set
        for oset in sets:
            conn.execute(t.delete().where(t.c.name == oset["name"]))
            conn.execute(
                t.insert().values(
                    name=oset["name"], document=store.dumps(oset), updated_at=store.utcnow()
                )
            )

    def option_set_users(self, snap: MetadataSnapshot) -> dict[str, list[str]]:
        """set name -> sorted ``entity.field`` names of the live fields that use it."""
        users: dict[str, list[str]] = {}
        for name, defn in sorted(snap.definitions.items()):
            for fname, prop in (thaw(defn.document).get("properties") or {}).items():
                oset = ((prop or {}).get("x-xrm") or {}).get("optionSet")
                if isinstance(oset, str):
                    users.setdefault(oset, []).append(f"{name}.{fname}")
        return users

    def delete_option_set(self, name: str) -> int:
        """Delete an unused option set; refused (:class:`OptionSetInUse`) while a field uses
        it. Under the version lock and with a version bump, so a plan made before (which may
        add a field using the set) is stale and planned again. Returns the new version."""
        with self.engine.begin() as conn:
            version = store.lock_version(conn)
            t = store.option_set
            if conn.execute(sa.select(t.c.name).where(t.c.name == name)).first() is None:
                raise UnknownOptionSet(name)
            current = (
                self._snapshot
                if self._snapshot and self._snapshot.version == version
                else self._load(conn)
            )
            used_by = self.option_set_users(current).get(name)
            if used_by:
                raise OptionSetInUse(name, used_by)
            conn.execute(t.delete().where(t.c.name == name))
            new_version = store.bump_version(conn, version)
            notify_change(conn)
        return new_version

    def option_sets(self, conn: sa.Connection | None = None) -> dict[str, dict[str, Any]]:
        """Every stored option set by name."""
        if conn is None:
            with self.engine.connect() as c:
                return self.option_sets(c)
        rows = conn.execute(sa.select(store.option_set.c.name, store.option_set.c.document)).all()
        return {r.name: json.loads(r.document) for r in rows}

    # -- conveniences -------------------------------------------------------------------------

    def apply_documents(
        self,
        documents: Iterable[Mapping[str, Any]],
        *,
        source: str = "admin",
        confirm: bool = False,
        actor: str | None = None,
        fallbacks: Mapping[str, str] | None = None,
    ) -> int:
        plan = self.plan(documents, source=source)
        return self.apply(plan, confirm=confirm, actor=actor, fallbacks=fallbacks)

    def export_documents(self) -> dict[str, dict[str, Any]]:
        """Every live entity's layers, for a bundle."""
        with self.engine.connect() as conn:
            snap = self.snapshot(conn)
            layers = self.layers(conn, list(snap.entities))
            sources = self.sources(conn)
        return {
            n: {"source": sources.get(n, "admin"), "layers": layers.get(n, {})}
            for n in sorted(snap.entities)
        }


def _name_of(doc: Mapping[str, Any]) -> str | None:
    try:
        name = doc["x-xrm"]["name"]
        return name if isinstance(name, str) else None
    except (KeyError, TypeError):
        return None


def _normalized(doc: Any) -> Any:
    try:
        return normalize_document(doc)
    except Exception:  # malformed: validation reports why
        return doc


def _is_noop(
    change: LayerChange,
    stored: Mapping[str, Mapping[str, Any]],
    sources: Mapping[tuple[str, str], str],
) -> bool:
    current = stored.get(change.entity, {}).get(change.layer)
    if change.document is None:
        return current is None
    return (
        current == thaw(change.document)
        and sources.get((change.entity, change.layer)) == change.source
    )


def _with_layer(defn: EntityDefinition, layer: str) -> EntityDefinition:
    from dataclasses import replace

    return replace(defn, layer=layer)


__all__ = ["EXTENSION_PREFIX", "AppliedChange", "LayerChange", "MetadataRegistry"]
