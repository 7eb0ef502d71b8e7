"""The record service: the one write path for entity records.

Every create, update and delete, from the API, the UI, imports, workflow actions or plugin code,
goes through here, in this order (the documented order of execution):

1. permission: the actor's entity permission, record scope and field-level write rights;
2. defaults (create) and validation against the entity's definition (every problem at once):
   :meth:`RecordService._prepare_create` / ``_prepare_update``, the one place per record; then
   the workflow and rules step (``self.rules``, see :mod:`xrm.core.workflows.writestep`):
   initial state / state changes only by transitions, state read-only and required fields,
   defaults, computed fields, validation and form rules;
3. reference and uniqueness checks (batched: a few queries for any number of records,
   :mod:`.checks`), then generated values (uuid, autonumber);
4. plugin ``before`` hooks (may change values or veto with a message);
5. SQL (optimistic concurrency on ``row_version``; creates set-based, :mod:`.batch`);
6. audit entry (each field's old and new value), when the entity is audited;
7. outbox message, in the same transaction;
8. the workflow step after the SQL: time-in-state log, roll-ups, automations;
9. plugin ``after`` hooks.

A single create is a batch of one of :meth:`RecordService.create_many`, so imports, the bulk
API and a form's save run the same steps. Deleting moves records to the recycle bin (see
:mod:`.recyclebin`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ...metadata.checkers import validate_columns
from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.registry import MetadataRegistry
from ...metadata.store import utcnow
from ..context import Actor
from ..plugins.concerns import hooked
from ..security.access import Access, AccessDenied
from ..security.accesscache import AccessCache
from ..tables import audit as audit_table
from ..tables import outbox as outbox_table
from . import audit, checks, journal, links, reading, recyclebin, rows
from .autonumber import generate
from .batch import NewRecord, insert_records
from .errors import (
    RecordConflict,
    RecordError,
    RecordInvalid,
    RecordNotFound,
    RecordVersionMismatch,
    batch_refused,
    refusal,
)
from .events import RecordEvent

SYSTEM_KEYS = (
    "id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner_id",
    "row_version",
)


class _NoRules:
    """The write path without a workflow service (bare record services in tools and tests)."""

    def before_create(self, *args, **kwargs) -> None:
        pass

    before_update = after_write = after_delete = after_restore = state_move = before_create


class RecordService:
    def __init__(self, registry: MetadataRegistry, hooks: Any = None, rules: Any = None):
        self.registry = registry
        self.hooks = hooks
        #: The workflow and rules step (:class:`xrm.core.workflows.writestep.RecordRules`).
        self.rules = rules or _NoRules()
        #: The workflow service (``platform.workflows``) once there is one, for
        #: :meth:`RecordEvent.fire`.
        self.workflows: Any = None
        #: Resolved access kept across transactions while the database says nothing it is
        #: made from changed (:mod:`xrm.core.security.accesscache`).
        self.access_cache = AccessCache()

    # -- access ---------------------------------------------------------------------------------

    def access(self, conn: sa.Connection, actor: Actor) -> Access:
        return self.access_cache.resolve(conn, actor)

    # -- reads ----------------------------------------------------------------------------------

    def get(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        *,
        access: Access | None = None,
    ) -> dict[str, Any]:
        access = access or self.access(conn, actor)
        access.require(entity, "read")
        snap = self.registry.snapshot(conn)
        record = reading.fetch(conn, snap, snap.entity(entity), record_id, access)
        if record is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        return record

    def stored(
        self, conn: sa.Connection, ce: CompiledEntity, record_id: int
    ) -> dict[str, Any] | None:
        """The whole stored record (every field, no scope): for the engine's own steps
        (workflow guards, automations), never for a caller's eyes."""
        return reading.fetch(conn, self.registry.snapshot(conn), ce, record_id, None)

    def history(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        *,
        access: Access | None = None,
    ) -> list[dict]:
        access = access or self.access(conn, actor)
        self.get(conn, actor, entity, record_id, access=access)  # readable, in scope
        return audit.history(conn, entity, record_id, set(access.hidden(entity)))

    def query(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        params: Mapping[str, str],
        *,
        access: Access | None = None,
    ) -> list[dict[str, Any]]:
        """Records of ``entity`` matching ``params`` (the REST query grammar of docs/api.md,
        e.g. ``{"account": "eq.7", "stage": "in.(open,won)", "limit": "50"}``), as the actor may
        see them: entity permission, record scopes and hidden fields applied in SQL, also to
        every entity a filter path or expansion reaches. For plugin code (hooks, demo data)."""
        from ..query import run_query

        access = access or self.access(conn, actor)
        access.require(entity, "read")
        snap = self.registry.snapshot(conn)
        scopes, hidden = {}, {}
        for name, ce in snap.entities.items():
            if not access.can(name, "read"):
                scopes[name] = sa.false()
                continue
            if (clause := access.scope_clause(name, ce.table)) is not None:
                scopes[name] = clause
            if h := access.hidden(name):
                hidden[name] = h
        return run_query(conn, snap, entity, params, scopes=scopes, hidden=hidden).items

    # -- writes ---------------------------------------------------------------------------------

    def create(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        data: Mapping[str, Any],
        *,
        access: Access | None = None,
        lenient: bool = False,
    ) -> dict[str, Any]:
        """Create one record; returns it as the actor may see it. A batch of one of
        :meth:`create_many`: the same steps, the same statements."""
        (result,) = self._create_batch(
            conn, actor, entity, [data], access=access, lenient=lenient, atomic=True
        )
        if isinstance(result, RecordError):
            raise result
        return result

    def create_many(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        access: Access | None = None,
        lenient: bool = False,
        atomic: bool = True,
        dry_run: bool = False,
        names: Sequence[str] | None = None,
        seen: dict[tuple, str] | None = None,
    ) -> list[dict[str, Any] | RecordError]:
        """Create many records (client values, as for :meth:`create`): each goes through the
        steps of :meth:`create` (:meth:`_prepare_create`, reference and uniqueness checks
        batched, generated values, ``before`` hooks), then the batch is written with a few
        set-based statements (:mod:`.batch`), then the ``after`` hooks run.

        Returns, per row and in order, the created record or the :class:`RecordError` that
        refused it. ``atomic``: any refused row raises, with the problems of every refused row
        (each problem carries the row's ``index``), and nothing is written. Not atomic: the good
        rows are written; if the database or an ``after`` hook refuses the batch, it is
        replayed one record at a time (each in a savepoint; hooks then run again) so only the
        failing rows fail. ``dry_run``: check only; a good row's result is the values it would
        be created with. ``names`` name the rows in messages about duplicates within the batch
        (default ``record <index>``); ``seen`` (kept by the caller across calls) finds
        duplicates of rows checked by earlier calls but not written, as in a dry run.
        """
        results = self._create_batch(
            conn,
            actor,
            entity,
            rows,
            access=access,
            lenient=lenient,
            atomic=atomic,
            dry_run=dry_run,
            names=names,
            seen=seen,
        )
        if atomic:
            refused = [(i, r) for i, r in enumerate(results) if isinstance(r, RecordError)]
            if refused:
                raise batch_refused(refused, len(rows))
        return results

    def _create_batch(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        access: Access | None,
        lenient: bool,
        atomic: bool,
        dry_run: bool = False,
        names: Sequence[str] | None = None,
        seen: dict[tuple, str] | None = None,
    ) -> list[Any]:
        access = access or self.access(conn, actor)
        access.require(entity, "create")
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        results: list[Any] = [None] * len(rows)
        rules = self._rules_apply(conn, snap, ce)
        prepared = self._prepare_creates(
            conn, actor, access, snap, ce, rows, lenient, rules, results
        )
        self._check_relations(conn, snap, ce, prepared, results, names, seen)
        if dry_run:
            for i, values in prepared.items():
                results[i] = values
            return results
        if atomic and any(r is not None for r in results):
            return results
        now = utcnow()
        # Not atomic: what the hooks do is undone with the batch if the batch must be replayed.
        savepoint = None if atomic else conn.begin_nested()
        # Plugin code runs only for the entities its hooks concern (plugins.concerns): for the
        # others no event is made.
        before_hooks = hooked(self.hooks, "xrm_before_create", entity)
        after_hooks = hooked(self.hooks, "xrm_after_create", entity)
        accepted: list[tuple[int, RecordEvent | None]] = []
        generates = bool(checks.generated_fields(ce))
        for i, values in prepared.items():
            event = None
            if before_hooks or after_hooks:
                event = RecordEvent(entity, "create", actor, conn, self, values=values)
            try:
                if generates:
                    generate(conn, ce, values, now)
                if before_hooks:
                    self._hook("xrm_before_create", event)
            except RecordError as exc:
                results[i] = exc
                continue
            accepted.append((i, event))
        if not accepted or (atomic and len(accepted) < len(rows)):
            if savepoint is not None:
                savepoint.commit()
            return results
        new = [
            NewRecord(prepared[i] if e is None else e.values, self._owner(actor, rows[i]))
            for i, e in accepted
        ]
        try:
            written = insert_records(conn, actor, ce, new, now)
            for n, ((_i, event), after) in enumerate(zip(accepted, written, strict=True)):
                rid = after["id"]
                if rules and self.rules.after_write(
                    conn, snap, ce, actor, "create", rid, None, after
                ):
                    after = written[n] = reading.fetch(conn, snap, ce, rid, None)  # automation
                if event is not None:
                    event.record_id, event.after = rid, after
                    if after_hooks:
                        self._hook("xrm_after_create", event)
        except (RecordError, sa.exc.IntegrityError) as exc:
            if savepoint is None:
                if isinstance(exc, sa.exc.IntegrityError):
                    raise RecordConflict(refusal(exc)) from exc
                raise
            # Which record failed is unknown: replay them one at a time, each in a savepoint.
            savepoint.rollback()
            for i, _event in accepted:
                results[i] = self._create_alone(conn, actor, entity, rows[i], access, lenient)
            return results
        if savepoint is not None:
            savepoint.commit()
        hidden = access.hidden(ce.name)
        for (i, _event), after in zip(accepted, written, strict=True):
            results[i] = self._visible(access, ce, after) if hidden else after
        return results

    def _create_alone(self, conn, actor, entity, data, access, lenient) -> Any:
        savepoint = conn.begin_nested()
        try:
            (result,) = self._create_batch(
                conn, actor, entity, [data], access=access, lenient=lenient, atomic=True
            )
        except sa.exc.IntegrityError as exc:
            savepoint.rollback()
            return RecordConflict(refusal(exc))
        except RecordError as exc:
            savepoint.rollback()
            return exc
        if isinstance(result, RecordError):
            savepoint.rollback()
        else:
            savepoint.commit()
        return result

    def _prepare_create(
        self,
        conn: sa.Connection,
        actor: Actor,
        access: Access,
        snap: MetadataSnapshot,
        ce: CompiledEntity,
        data: Mapping[str, Any],
        lenient: bool,
        *,
        rules: bool = True,
    ) -> dict[str, Any]:
        """The per-record steps of a create that need no other record: field rights, defaults,
        validation. Returns the values to write (field -> coerced value); raises the
        :class:`RecordError` that refuses the record. Every create, single or batched, passes
        here, and only here: this is where a step applying to each new record belongs.
        ``rules``: False when no workflow or rule set concerns the entity
        (:meth:`_rules_apply`, asked once per batch), so the rules step has nothing to do."""
        checks.check_field_rights(ce, access, data)
        values = ce.defaults()
        given, problems = ce.validate(data, lenient=lenient)
        values.update(given)
        if problems:
            raise RecordInvalid(
                f"{ce.name}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
            )
        checks.refuse_maintained_fields(ce, access, given)
        if rules:
            self.rules.before_create(conn, snap, ce, actor, values, data.keys())
        return values

    def _prepare_creates(
        self,
        conn: sa.Connection,
        actor: Actor,
        access: Access,
        snap: MetadataSnapshot,
        ce: CompiledEntity,
        rows: Sequence[Mapping[str, Any]],
        lenient: bool,
        rules: bool,
        results: list[Any],
    ) -> dict[int, dict[str, Any]]:
        """:meth:`_prepare_create` for each row of a batch: row index -> values to write; a
        refused row gets its :class:`RecordError` in ``results``.

        When no workflow or rule set concerns the entity and it has no system-maintained
        fields, the batch's values are first checked column by column
        (:func:`~xrm.metadata.checkers.validate_columns`: the same conversions, with C loops
        over each field's column); a row that passes it and writes no field the actor may not
        write gets the defaults and its values - what :meth:`_prepare_create` gives it. Every
        other row (a problem, a barred field, anything unusual) goes through
        :meth:`_prepare_create`, which refuses it with its exact problems."""
        prepared: dict[int, dict[str, Any]] = {}
        checked: list[dict[str, Any] | None] = [None] * len(rows)
        if not rules and not ce.maintained and len(rows) > 1:
            checked = validate_columns(ce, rows, lenient)
            barred = access.readonly(ce.name) | access.hidden(ce.name)  # as check_field_rights
            if barred:
                checked = [
                    None if given is None or not barred.isdisjoint(data) else given
                    for given, data in zip(checked, rows, strict=True)
                ]
        defaults = ce.defaults if ce.defaults() else None
        for i, given in enumerate(checked):
            if given is not None:
                if defaults is None:
                    prepared[i] = given  # a dict of its own: no default to start from
                else:
                    prepared[i] = values = defaults()
                    values.update(given)
                continue
            try:
                prepared[i] = self._prepare_create(
                    conn, actor, access, snap, ce, rows[i], lenient, rules=rules
                )
            except RecordError as exc:
                results[i] = exc
        return prepared

    def _rules_apply(self, conn: sa.Connection, snap: MetadataSnapshot, ce: CompiledEntity) -> bool:
        """Whether the workflow and rules step can do anything for records of ``ce``: some
        workflow, rule set, roll-up or automation concerns it (the step's own first test)."""
        catalog = getattr(self.rules, "catalog", None)
        if catalog is None:
            return not isinstance(self.rules, _NoRules)
        return catalog(conn, snap).touches(ce.name)

    def _check_relations(
        self,
        conn: sa.Connection,
        snap: MetadataSnapshot,
        ce: CompiledEntity,
        prepared: dict[int, dict[str, Any]],
        results: list[Any],
        names: Sequence[str] | None = None,
        seen: dict[tuple, str] | None = None,
        current: Sequence[Mapping[str, Any] | None] | None = None,
        record_ids: Sequence[int | None] | None = None,
    ) -> None:
        """References, then uniqueness, of the prepared records, batched (a few queries for
        any number of records). A refused record leaves ``prepared`` and gets its error in
        ``results``."""
        order = list(prepared)
        missing = checks.missing_references(conn, snap, ce, [prepared[i] for i in order])
        for i, problems in zip(order, missing, strict=True):
            if problems:
                results[i] = RecordInvalid(f"{ce.name}: reference to a missing record", problems)
                del prepared[i]
        order = list(prepared)
        unique_fields = checks.unique_fields(ce)
        if not unique_fields or not order:
            return
        conflicts = checks.unique_conflicts(
            conn,
            ce,
            [
                rows.to_row(ce, {f: values[f] for f in unique_fields if f in values})
                for values in (prepared[i] for i in order)
            ],
            current=[current[i] for i in order] if current else None,
            record_ids=[record_ids[i] for i in order] if record_ids else None,
            names=[names[i] for i in order] if names else [f"record {i}" for i in order],
            seen=seen,
        )
        for i, conflict in zip(order, conflicts, strict=True):
            if conflict is not None:
                results[i] = conflict
                del prepared[i]

    @staticmethod
    def _owner(actor: Actor, data: Mapping[str, Any]) -> int | None:
        if "owner_id" in data and actor.is_admin:
            return data["owner_id"]
        return actor.user_id

    def update(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        data: Mapping[str, Any],
        expected_version: int | None = None,
        *,
        access: Access | None = None,
        lenient: bool = False,
        workflow: Any = None,
        stored_row: Mapping[str, Any] | None = None,
        stored_record: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``workflow`` (a :class:`xrm.core.workflows.writestep.WorkflowWrite`) marks a write
        made by the workflow engine: a transition, or an automation's ``setFields``.
        ``stored_row``: the record's row as the caller read it in this transaction, live and in
        ``access``'s scope (the workflow engine's, to not read it twice); the UPDATE's
        compare-and-swap on its ``row_version`` refuses the write if it changed since.
        ``stored_record``: that row as a whole record (every field, as ``reading.record_of``
        without access gives it), when the caller has it already."""
        access = access or self.access(conn, actor)
        access.require(entity, "update")
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        stored = stored_row
        if stored is None or stored["id"] != record_id:
            stored = reading.fetch_row(conn, ce, record_id, access)
        if stored is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        current = stored["row_version"]
        if expected_version is not None and current != expected_version:
            raise RecordVersionMismatch(
                f"{entity} {record_id} was changed by someone else (version {current}, you had {expected_version})"
            )
        if stored_record is not None and stored is stored_row:
            full_before = dict(stored_record)
        else:
            full_before = reading.record_of(conn, snap, ce, stored, None)  # the audit compares all
        if workflow is None and self.workflows is not None:
            # A client writing a state field asks for the transition that leads there: it is
            # fired, with its roles, guard, approvals and required fields (writestep.state_move).
            move = self.rules.state_move(conn, snap, ce, full_before, data)
            if move is not None:
                return self.workflows.fire_for_write(
                    conn,
                    actor,
                    entity,
                    record_id,
                    move,
                    data,
                    if_match=expected_version,
                    access=access,
                    lenient=lenient,
                )
        # The stored record as read (hooks may see ``full_before`` itself), for the one after.
        pristine = None if ce.associations else dict(full_before)
        before = (
            reading.record_of(conn, snap, ce, stored, access)
            if ce.associations
            else self._visible(access, ce, full_before)
        )
        values = self._prepare_update(conn, actor, access, snap, ce, before, data, lenient)
        self.rules.before_update(conn, snap, ce, actor, full_before, values, workflow)
        prepared, results = {0: values}, [None]
        self._check_relations(
            conn, snap, ce, prepared, results, current=[stored], record_ids=[record_id]
        )
        if results[0] is not None:
            raise results[0]
        event = RecordEvent(
            entity, "update", actor, conn, self, record_id=record_id, values=values, before=before
        )
        self._hook("xrm_before_update", event)
        row = rows.to_row(ce, values)  # association fields left out
        if "owner_id" in data and actor.is_admin:
            row["owner_id"] = data["owner_id"]
        row.update(updated_at=utcnow(), updated_by=actor.user_id, row_version=current + 1)
        changed = rows.prepared_update(ce.table).run(
            conn, {**row, "_xrm_id": record_id, "_xrm_version": current}
        )
        if changed != 1:
            raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
        links.replace_links(conn, snap, ce, record_id, values, access)
        # The stored row is the row read before with what this update wrote (no re-read);
        # only the fields it wrote are dumped again.
        if pristine is None:
            after = reading.record_of(conn, snap, ce, {**stored, **row}, None)
        else:
            after = rows.redumper(ce)(pristine, {**stored, **row}, row)
        note = workflow.audit_note() if workflow is not None else None
        journal.record_write(
            conn,
            actor,
            ce,
            "update",
            record_id,
            full_before,
            after,
            extra={"workflow": note} if note else None,
        )
        if self.rules.after_write(
            conn, snap, ce, actor, "update", record_id, full_before, after, workflow
        ):
            after = reading.fetch(conn, snap, ce, record_id, None)  # an automation changed it
        event.after = after
        self._hook("xrm_after_update", event)
        if ce.associations and not access.unrestricted:
            # Links to records the writer cannot see are kept, and not shown to them.
            return reading.fetch(conn, snap, ce, record_id, access) or {}
        return self._visible(access, ce, after)

    def update_many(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        items: Sequence[tuple[int, Mapping[str, Any]]],
        *,
        access: Access | None = None,
        atomic: bool = True,
        lenient: bool = False,
        expected: Sequence[int | None] | None = None,
    ) -> list[dict[str, Any] | RecordError] | None:
        """Update many records (``(id, changes)`` pairs, client values as for :meth:`update`),
        set-based: one SELECT of their rows, the steps of :meth:`update` per record (field
        rights, validation, the rules step, ``before`` hooks), reference and uniqueness checks
        batched, then one ``executemany`` UPDATE (compare-and-swap on each ``row_version``) per
        set of columns written, and one INSERT each for the audit entries and the outbox
        messages; then the ``after`` steps per record.

        Returns, per item and in order, the stored record (as the actor may see it) or the
        :class:`RecordError` that refused it; ``atomic``: nothing is written if any is refused.
        ``lenient`` as for :meth:`update`; ``expected``: per item, the ``row_version`` the
        caller read (None: any), as ``expected_version`` of :meth:`update`.
        Returns None, having written nothing, when the batch must go record by record through
        :meth:`update`: a record twice, many-to-many fields, an actor without the update
        right (each record is refused on its own), anything that can write other records
        meanwhile (plugin update hooks, workflows, rules, roll-ups, automations; see
        :meth:`prefetch_rows`), or - not atomic - a record changed by someone else meanwhile."""
        access = access or self.access(conn, actor)
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        ids = [rid for rid, _data in items]
        if (
            not items
            or len(set(ids)) != len(ids)
            or ce.associations
            or not access.can(entity, "update")
            or self._side_effects(conn, snap, ce)
        ):
            return None
        stored = self.prefetch_rows(conn, actor, entity, ids, access)
        results: list[Any] = [None] * len(items)
        prepared: dict[int, dict[str, Any]] = {}
        dump = rows.dumper(ce)
        befores: dict[int, dict[str, Any]] = {}
        for i, (rid, data) in enumerate(items):
            try:
                row = stored.get(rid)
                if row is None:
                    raise RecordNotFound(f"{entity} {rid} does not exist")
                version = expected[i] if expected else None
                if version is not None and row["row_version"] != version:
                    raise RecordVersionMismatch(
                        f"{entity} {rid} was changed by someone else (version "
                        f"{row['row_version']}, you had {version})"
                    )
                full_before = befores[i] = dump(row)
                before = self._visible(access, ce, full_before)
                values = self._prepare_update(conn, actor, access, snap, ce, before, data, lenient)
                self.rules.before_update(conn, snap, ce, actor, full_before, values, None)
            except RecordError as exc:
                results[i] = exc
                continue
            prepared[i] = values
        self._check_relations(
            conn,
            snap,
            ce,
            prepared,
            results,
            current=[stored.get(rid) for rid in ids],
            record_ids=ids,
        )
        if not prepared or (atomic and any(r is not None for r in results)):
            return results
        events: dict[int, RecordEvent] = {}
        for i in list(prepared):
            rid = ids[i]
            before = self._visible(access, ce, befores[i])
            event = RecordEvent(
                entity,
                "update",
                actor,
                conn,
                self,
                record_id=rid,
                values=prepared[i],
                before=before,
            )
            try:
                self._hook("xrm_before_update", event)
            except RecordError as exc:
                results[i] = exc
                del prepared[i]
                continue
            events[i] = event
        if not prepared or (atomic and any(r is not None for r in results)):
            return results
        now = utcnow()
        savepoint = None if atomic else conn.begin_nested()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        written: dict[int, dict[str, Any]] = {}
        for i, values in prepared.items():
            rid, data = items[i]
            row = rows.to_row(ce, values)
            if "owner_id" in data and actor.is_admin:
                row["owner_id"] = data["owner_id"]
            row.update(
                updated_at=now, updated_by=actor.user_id, row_version=stored[rid]["row_version"] + 1
            )
            written[i] = row
            groups.setdefault(tuple(sorted(row)), []).append(
                {**row, "_xrm_id": rid, "_xrm_version": stored[rid]["row_version"]}
            )
        statement = rows.update_statement(ce.table)
        changed = sum(conn.execute(statement, params).rowcount for params in groups.values())
        if changed != len(prepared):
            if savepoint is None:
                raise RecordVersionMismatch(
                    f"{entity}: a record of the batch was changed by someone else meanwhile; "
                    "nothing was changed"
                )
            savepoint.rollback()
            return None
        fields = [*ce.fields]
        audit_rows, outbox_rows, afters = [], [], {}
        for i, row in written.items():
            rid = ids[i]
            after = afters[i] = dump({**stored[rid], **row})
            changes = audit.diff(befores[i], after, fields)
            if ce.definition.audit:
                audit_rows.append({"record_id": rid, "changes": audit.encode(changes)})
            payload = {
                "entity": ce.name,
                "id": rid,
                "action": "update",
                "record": after,
                "changes": changes,
                "actor": actor.username,
            }
            outbox_rows.append(
                {
                    "record_id": rid,
                    "payload": audit.encode(payload),
                    "idempotency_key": f"{ce.name}:{rid}:update:{row['row_version']}"[:120],
                }
            )
        if audit_rows:
            rows.insert_many(
                conn,
                audit_table,
                audit_rows,
                {
                    "entity": ce.name,
                    "action": "update",
                    "actor_id": actor.user_id,
                    "actor_name": actor.username,
                    "at": now,
                },
            )
        rows.insert_many(
            conn,
            outbox_table,
            outbox_rows,
            {"topic": "record.updated", "entity": ce.name, "created_at": now, "available_at": now},
        )
        for i, after in afters.items():
            rid = ids[i]
            if self.rules.after_write(conn, snap, ce, actor, "update", rid, befores[i], after):
                after = reading.fetch(conn, snap, ce, rid, None)  # an automation changed it
            events[i].after = after
            self._hook("xrm_after_update", events[i])
            results[i] = self._visible(access, ce, after)
        if savepoint is not None:
            savepoint.commit()
        return results

    def prefetch_rows(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_ids: Sequence[int],
        access: Access,
    ) -> dict[int, Mapping[str, Any]]:
        """The rows of the records a bulk update is about to write, live and in ``access``'s
        scope, in one query (id -> row), to hand to :meth:`update` as ``stored_row``: each
        record of the batch then costs no SELECT of its own. The caller uses a row at most
        once (a second update of the same record must read what the first wrote).

        Empty when writing one record can change another behind the caller's back: plugin
        hooks on updates, or workflows, rules, roll-ups or automations on the entity (their
        writes would make a prefetched row stale, and the update refuse it as changed by
        someone else). Those batches read each record as it is written."""
        if not record_ids or not access.can(entity, "update"):
            return {}  # the updates themselves say what is refused
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        if self._side_effects(conn, snap, ce):
            return {}
        t = ce.table
        found: dict[int, Mapping[str, Any]] = {}
        ids = sorted(set(record_ids))
        for i in range(0, len(ids), 500):
            q = sa.select(t).where(*reading.scoped(ce, access, t.c.id.in_(ids[i : i + 500])))
            found.update((row["id"], row) for row in conn.execute(q).mappings())
        return found

    def _side_effects(
        self, conn: sa.Connection, snap: MetadataSnapshot, ce: CompiledEntity
    ) -> bool:
        if self._rules_apply(conn, snap, ce):
            return True
        # Plugin update hooks that concern the entity (or do not say which they concern,
        # plugins.concerns) may write other records.
        return hooked(self.hooks, "xrm_before_update", ce.name) or hooked(
            self.hooks, "xrm_after_update", ce.name
        )

    def _prepare_update(
        self,
        conn: sa.Connection,
        actor: Actor,
        access: Access,
        snap: MetadataSnapshot,
        ce: CompiledEntity,
        before: Mapping[str, Any],
        data: Mapping[str, Any],
        lenient: bool,
    ) -> dict[str, Any]:
        """The per-record steps of an update that need no other record: field rights and
        validation of the changed fields. Returns the values to write; raises the
        :class:`RecordError` that refuses the change. The counterpart of
        :meth:`_prepare_create`: a step applying to each changed record belongs here."""
        checks.check_field_rights(ce, access, data)
        values, problems = ce.validate(data, partial=True, lenient=lenient)
        if problems:
            raise RecordInvalid(
                f"{ce.name}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
            )
        checks.refuse_maintained_fields(ce, access, values, before)
        return values

    def delete(
        self,
        conn: sa.Connection,
        actor: Actor,
        entity: str,
        record_id: int,
        expected_version: int | None = None,
        *,
        access: Access | None = None,
    ) -> None:
        """Move the record (and what it cascades to) to the recycle bin."""
        access = access or self.access(conn, actor)
        access.require(entity, "delete")
        snap = self.registry.snapshot(conn)
        ce = snap.entity(entity)
        before = reading.fetch(conn, snap, ce, record_id, access)
        if before is None:
            raise RecordNotFound(f"{entity} {record_id} does not exist")
        if expected_version is not None and before["row_version"] != expected_version:
            raise RecordVersionMismatch(f"{entity} {record_id} was changed by someone else")
        event = RecordEvent(entity, "delete", actor, conn, self, record_id=record_id, before=before)
        self._hook("xrm_before_delete", event)
        deletion = recyclebin.plan_deletion(conn, snap, entity, record_id)
        for other, fname, ids in deletion.clear:
            for child in ids:
                self.update(
                    conn,
                    actor,
                    other,
                    child,
                    {fname: None},
                    access=Access(actor=_system_like(actor)),
                )
        recyclebin.mark_deleted(conn, snap, deletion, actor.user_id)
        for name, rid in deletion.records:
            other = snap.entity(name)
            journal.record_write(
                conn, actor, other, "delete", rid, None, None, extra={"batch": deletion.batch}
            )
        self.rules.after_delete(conn, snap, actor, list(deletion.records))
        self._hook("xrm_after_delete", event)

    def restore(
        self, conn: sa.Connection, actor: Actor, entity: str, record_id: int
    ) -> dict[str, Any]:
        """Bring a record back from the recycle bin, with everything deleted together with it."""
        if not actor.is_admin:
            raise AccessDenied("only administrators may restore records from the recycle bin")
        snap = self.registry.snapshot(conn)
        batch = recyclebin.batch_of(conn, entity, record_id)
        recyclebin.restore_rows(conn, snap, batch)
        for name, rid in batch:
            ce = snap.entity(name)
            after = reading.fetch(conn, snap, ce, rid, None)
            journal.record_write(conn, actor, ce, "restore", rid, None, after)
        self.rules.after_restore(conn, snap, actor, list(batch))
        return reading.fetch(conn, snap, snap.entity(entity), record_id, None)

    def purge(self, conn: sa.Connection, actor: Actor, entity: str, record_id: int) -> int:
        """Delete a record in the recycle bin (and its batch) for good."""
        if not actor.is_admin:
            raise AccessDenied("only administrators may purge the recycle bin")
        snap = self.registry.snapshot(conn)
        return recyclebin.purge_rows(conn, snap, recyclebin.batch_of(conn, entity, record_id))

    # -- steps ----------------------------------------------------------------------------------

    def _hook(self, name: str, event: RecordEvent) -> None:
        if self.hooks is not None:
            getattr(self.hooks, name)(event=event)

    def _visible(self, access: Access, ce: CompiledEntity, record: dict) -> dict:
        hidden = access.hidden(ce.name)
        return {k: v for k, v in record.items() if k not in hidden} if hidden else record


def _system_like(actor: Actor) -> Actor:
    """The same actor with rights to apply the reference rules of a delete it may do."""
    return Actor(user_id=actor.user_id, username=actor.username, roles=actor.roles, is_admin=True)
