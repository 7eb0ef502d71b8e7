"""Creating records: the write path's steps for a batch of new records.

A single create is a batch of one: :meth:`RecordService.create` and
:meth:`RecordService.create_many` both run :func:`create_batch`, so a form's save, the bulk API
and an import take the same steps in the same order (see :mod:`.service`): field rights,
defaults and validation per record (:func:`prepare_create`; for a plain batch first column by
column, :func:`prepare_creates`) and the rules step, reference and uniqueness checks for the
whole batch (:func:`.checks.check_relations`), generated values, ``before`` hooks, the
set-based SQL with its audit entries and outbox messages (:mod:`.batch`), the workflow step
after it, ``after`` hooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...metadata.checkers import validate_columns
from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.database import rolled_back_on_error
from ...metadata.store import utcnow
from ..context import Actor
from ..plugins.concerns import hooked
from ..security.access import Access
from . import checks, reading
from .autonumber import generate
from .batch import NewRecord, insert_records
from .errors import RecordConflict, RecordError, RecordInvalid, refusal
from .events import RecordEvent
from .hooks import rules_apply, run_hook

if TYPE_CHECKING:
    from .service import RecordService


def create_batch(
    service: RecordService,
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
    """Create the records of ``rows`` (the parameters of :meth:`RecordService.create_many`);
    returns, per row and in order, the created record (as the actor may see it), its values
    (``dry_run``) or the :class:`RecordError` that refused it. Atomic, nothing is written when
    a row is refused; it is the caller that raises."""
    access = access or service.access(conn, actor)
    access.require(entity, "create")
    snap = service.registry.snapshot(conn)
    ce = snap.entity(entity)
    results: list[Any] = [None] * len(rows)
    rules = rules_apply(service.rules, conn, snap, ce)
    prepared = prepare_creates(
        service, conn, actor, access, snap, ce, rows, lenient, rules, results
    )
    checks.check_relations(conn, snap, ce, prepared, results, names, seen)
    if dry_run:
        for i, values in prepared.items():
            results[i] = values
        return results
    if atomic and any(r is not None for r in results):
        return results
    now = utcnow()
    # Not atomic: what the hooks do is undone with the batch if the batch must be replayed.
    savepoint = None if atomic else conn.begin_nested()
    with rolled_back_on_error(savepoint):
        # Plugin code runs only for the entities its hooks concern (plugins.concerns): for the
        # others no event is made.
        before_hooks = hooked(service.hooks, "xrm_before_create", entity)
        after_hooks = hooked(service.hooks, "xrm_after_create", entity)
        accepted: list[tuple[int, RecordEvent | None]] = []
        generates = bool(checks.generated_fields(ce))
        for i, values in prepared.items():
            event = None
            if before_hooks or after_hooks:
                event = RecordEvent(entity, "create", actor, conn, service, values=values)
            try:
                if generates:
                    generate(conn, ce, values, now)
                if before_hooks:
                    run_hook(service.hooks, "xrm_before_create", event)
            except RecordError as exc:
                results[i] = exc
                continue
            accepted.append((i, event))
        if not accepted or (atomic and len(accepted) < len(rows)):
            if savepoint is not None:
                savepoint.commit()
            return results
        new = [
            NewRecord(prepared[i] if e is None else e.values, _owner(actor, rows[i]))
            for i, e in accepted
        ]
        try:
            written = insert_records(conn, actor, ce, new, now)
            for n, ((_i, event), after) in enumerate(zip(accepted, written, strict=True)):
                rid = after["id"]
                if rules and service.rules.after_write(
                    conn, snap, ce, actor, "create", rid, None, after
                ):
                    after = written[n] = reading.fetch(conn, snap, ce, rid, None)  # automation
                if event is not None:
                    event.record_id, event.after = rid, after
                    if after_hooks:
                        run_hook(service.hooks, "xrm_after_create", event)
        except (RecordError, sa.exc.IntegrityError) as exc:
            if savepoint is None:
                if isinstance(exc, sa.exc.IntegrityError):
                    raise RecordConflict(refusal(exc)) from exc
                raise
            # Which record failed is unknown: replay them one at a time, each in a savepoint.
            savepoint.rollback()
            for i, _event in accepted:
                results[i] = _create_alone(service, conn, actor, entity, rows[i], access, lenient)
            return results
        if savepoint is not None:
            savepoint.commit()
        hidden = access.hidden(ce.name)
        for (i, _event), after in zip(accepted, written, strict=True):
            results[i] = reading.visible(access, ce, after) if hidden else after
        return results


def _create_alone(
    service: RecordService,
    conn: sa.Connection,
    actor: Actor,
    entity: str,
    data: Mapping[str, Any],
    access: Access,
    lenient: bool,
) -> Any:
    """One record of a refused batch, created on its own in a savepoint: the record or the
    :class:`RecordError` that refuses it."""
    savepoint = conn.begin_nested()
    try:
        (result,) = create_batch(
            service, conn, actor, entity, [data], access=access, lenient=lenient, atomic=True
        )
    except sa.exc.IntegrityError as exc:
        savepoint.rollback()
        return RecordConflict(refusal(exc))
    except RecordError as exc:
        savepoint.rollback()
        return exc
    except BaseException:
        savepoint.rollback()
        raise
    if isinstance(result, RecordError):
        savepoint.rollback()
    else:
        savepoint.commit()
    return result


def prepare_create(
    ce: CompiledEntity, access: Access, data: Mapping[str, Any], lenient: bool
) -> dict[str, Any]:
    """The per-record steps of a create that need no other record: field rights, defaults,
    validation. Returns the values to write (field -> coerced value); raises the
    :class:`RecordError` that refuses the record. Every create, single or batched, passes
    here (or through the same checks column by column, :func:`prepare_creates`): this is
    where a step applying to each new record belongs. The counterpart of
    :func:`.updating.prepare_update`; the rules step follows it."""
    checks.check_field_rights(ce, access, data)
    values = ce.defaults()
    given, problems = ce.validate(data, lenient=lenient)
    values.update(given)
    if problems:
        raise RecordInvalid(
            f"{ce.name}: {len(problems)} invalid field(s)", [p.as_dict() for p in problems]
        )
    checks.refuse_maintained_fields(ce, access, given)
    return values


def prepare_creates(
    service: RecordService,
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
    """:func:`prepare_create` for each row of a batch: row index -> values to write; a
    refused row gets its :class:`RecordError` in ``results``.

    When no workflow or rule set concerns the entity and it has no system-maintained
    fields, the batch's values are first checked column by column
    (:func:`~xrm.metadata.checkers.validate_columns`: the same conversions, with C loops
    over each field's column); a row that passes it and writes no field the actor may not
    write gets the defaults and its values - what :func:`prepare_create` gives it. Every
    other row (a problem, a barred field, anything unusual) goes through
    :func:`prepare_create`, which refuses it with its exact problems."""
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
        data = rows[i]
        try:
            values = prepare_create(ce, access, data, lenient)
            if rules:
                service.rules.before_create(conn, snap, ce, actor, values, data.keys())
        except RecordError as exc:
            results[i] = exc
            continue
        prepared[i] = values
    return prepared


def _owner(actor: Actor, data: Mapping[str, Any]) -> int | None:
    """The new record's owner: the one ``data`` names when an administrator creates it, else
    the actor."""
    if "owner_id" in data and actor.is_admin:
        return data["owner_id"]
    return actor.user_id
