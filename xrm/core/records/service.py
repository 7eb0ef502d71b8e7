"""The record service: the one write path for entity records.

Every create, update and delete, from the API, the UI, imports, workflow actions or plugin code,
goes through here, in this order (the documented order of execution):

1. permission: the actor's entity permission, record scope and field-level write rights;
2. defaults (create) and validation against the entity's definition (every problem at once):
   :func:`.creating.prepare_create` / :func:`.updating.prepare_update`, the one place per
   record; then the workflow and rules step (``self.rules``, see
   :mod:`xrm.core.workflows.writestep`): initial state / state changes only by transitions,
   state read-only and required fields, defaults, computed fields, validation and form rules;
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

This module holds the service's state, its reads and its public methods. The steps of each
kind of write are functions of their own modules that take the service as first argument:
:mod:`.creating` (called by create and create_many), :mod:`.updating` (update),
:mod:`.bulkupdate` (update_many, prefetch_rows) and :mod:`.deleting` (delete, restore, purge),
whose functions are the service's methods themselves; they call plugin hooks and ask about the
workflow and rules step through :mod:`.hooks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from ...metadata.registry import MetadataRegistry
from ..context import Actor
from ..security.access import Access
from ..security.accesscache import AccessCache
from . import audit, bulkupdate, creating, deleting, reading, updating
from .errors import RecordError, RecordNotFound, batch_refused
from .hooks import NoRules

SYSTEM_KEYS = (
    "id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner_id",
    "row_version",
)


class RecordService:
    """Reads and writes of records, for every caller: ``hooks`` calls the plugins' hooks
    (None: no plugins), ``rules`` is the workflow and rules step (None: none)."""

    def __init__(self, registry: MetadataRegistry, hooks: Any = None, rules: Any = None):
        self.registry = registry
        self.hooks = hooks
        #: The workflow and rules step (:class:`xrm.core.workflows.writestep.RecordRules`).
        self.rules = rules or NoRules()
        #: The workflow service (``platform.workflows``) once there is one, for
        #: :meth:`RecordEvent.fire`.
        self.workflows: Any = None
        #: Resolved access kept across transactions while the database says nothing it is
        #: made from changed (:mod:`xrm.core.security.accesscache`).
        self.access_cache = AccessCache()

    # -- access ---------------------------------------------------------------------------------

    def access(self, conn: sa.Connection, actor: Actor) -> Access:
        return self.access_cache.resolve(conn, actor)

    #: ``record`` without the fields ``access`` hides (:func:`.reading.visible`); for the
    #: workflow service.
    _visible = staticmethod(reading.visible)

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
        (result,) = creating.create_batch(
            self, conn, actor, entity, [data], access=access, lenient=lenient, atomic=True
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
        steps of :meth:`create` (:func:`.creating.prepare_create`, reference and uniqueness
        checks batched, generated values, ``before`` hooks), then the batch is written with a
        few set-based statements (:mod:`.batch`), then the ``after`` hooks run.

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
        results = creating.create_batch(
            self,
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

    # The writes below only hand over to their module: each method is that function (its first
    # parameter is the service), so its signature is written once and costs no extra call on
    # the hot path of every PATCH.
    update = updating.update
    update_many = bulkupdate.update_many
    prefetch_rows = bulkupdate.prefetch_rows
    delete = deleting.delete
    restore = deleting.restore
    purge = deleting.purge
