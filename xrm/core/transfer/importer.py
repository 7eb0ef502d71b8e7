"""Import a CSV or XLSX file into an entity, through the record service.

The file is read batch by batch (``batch_size`` rows in memory at a time). Each batch is
planned (:mod:`.planning`: keys matched, changes found) and then written: new records through
:meth:`RecordService.create_many` (the record service's every step, batched; a dry run of it
when nothing is to be written), changed records through :meth:`RecordService.update_many`
(set-based; one at a time through :meth:`RecordService.update` when it must: plugin update
hooks, workflows or rules on the entity, many-to-many fields...). Rows whose values equal the
record's are left alone, so importing a file just exported changes nothing (no new version, no
audit entry).

The import runs inside a savepoint of the caller's transaction: an all-or-nothing import that
meets a bad row rolls its writes back, keeps checking the rest of the file (so the report lists
every bad row) and returns with ``written`` false. The caller commits.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from ...metadata.database import rolled_back_on_error
from ..context import Actor
from ..records.errors import RecordConflict, RecordError
from ..records.service import RecordService
from ..security.access import Access, AccessDenied
from .cells import is_empty
from .mapping import resolve_columns
from .planning import RowPlan, RowPlanner
from .report import ImportMode, ImportOptions, ImportReport, RowError
from .sources import Source, TabularFile, open_table


def import_file(
    records: RecordService,
    conn: sa.Connection,
    actor: Actor,
    entity: str,
    source: Source | TabularFile,
    options: ImportOptions | None = None,
    *,
    access: Access | None = None,
    **read_options: Any,
) -> ImportReport:
    """Import ``source`` (a path, bytes, a stream, or an opened :class:`TabularFile`) into
    ``entity`` as ``actor``. ``read_options`` go to :func:`.sources.open_table` (``format``,
    ``delimiter``, ``encoding``, ``sheet``). ``access``: the actor's rights, when the caller has
    already resolved them (as for the record service's methods).

    Raises :class:`~.errors.ImportFileError` for a file that cannot be read and
    :class:`~.errors.ImportMappingError` for columns that cannot be mapped, before anything is
    written; problems of rows are in the report.
    """
    options = options or ImportOptions()
    snapshot = records.registry.snapshot(conn)
    ce = snapshot.entity(entity)
    access = access or records.access(conn, actor)
    if not (access.can(entity, "create") or access.can(entity, "update")):
        raise AccessDenied(f"{actor.username} may not import {entity} records")
    with open_table(source, **read_options) as table:
        columns = resolve_columns(
            ce, table.header, options.mapping, options.key, access.hidden(entity)
        )
        planner = RowPlanner(conn, snapshot, ce, access, columns, options)
        return _ImportRun(records, conn, actor, access, options, planner).execute(table)


class _ImportRun:
    def __init__(self, records, conn, actor, access, options: ImportOptions, planner: RowPlanner):
        self.records = records
        self.conn = conn
        self.actor = actor
        self.access = access
        self.options = options
        self.planner = planner
        self.columns = columns = planner.columns
        self.report = ImportReport(
            entity=planner.ce.name,
            mode=options.mode,
            dry_run=options.dry_run,
            key=columns.key,
            columns=dict(columns.columns),
            ignored_columns=list(columns.ignored),
        )

    def execute(self, table: TabularFile) -> ImportReport:
        report, options = self.report, self.options
        savepoint = None if options.dry_run else self.conn.begin_nested()
        with rolled_back_on_error(savepoint):
            for batch in _batches(table.rows(), options.batch_size):
                with _collector_paused():
                    plans = self.planner.plan(batch)
                    writing = savepoint is not None and savepoint.is_active
                    self._write(plans, dry_run=not writing)
                all_or_nothing = options.mode is ImportMode.ALL_OR_NOTHING
                if writing and all_or_nothing and any(p.errors for p in plans):
                    savepoint.rollback()
                self._count(plans)
        if savepoint is not None and savepoint.is_active:
            savepoint.commit()
            report.written = True
        return report

    def _count(self, plans: list[RowPlan]) -> None:
        report = self.report
        report.rows += len(plans)
        for p in plans:
            if not p.errors:
                setattr(report, _COUNTERS[p.action], getattr(report, _COUNTERS[p.action]) + 1)
            else:
                report.skipped += 1
                report.errors.extend(p.errors)

    # -- writing --------------------------------------------------------------------------------

    def _write(self, plans: list[RowPlan], dry_run: bool) -> None:
        """Create and update the records of the good rows (``dry_run``: only check the new
        ones). An all-or-nothing import stops writing at the first bad row."""
        if self.options.mode is ImportMode.ALL_OR_NOTHING and any(p.errors for p in plans):
            dry_run = True  # nothing of this import will stand
        creates = [p for p in plans if not p.errors and p.action == "create"]
        if creates:
            self._create(creates, dry_run)
        if dry_run:
            return
        updates = [p for p in plans if not p.errors and p.action == "update"]
        if updates and not self._update_many(updates):
            for p in updates:
                self._guarded(p, self._update)

    def _update_many(self, plans: list[RowPlan]) -> bool:
        """Update the records set-based (:meth:`RecordService.update_many`); False, having
        written nothing, when they must go one at a time (see there; also when the database
        refuses the batch, so that only the failing rows fail)."""
        savepoint = self.conn.begin_nested()
        try:
            results = self.records.update_many(
                self.conn,
                self.actor,
                self.planner.ce.name,
                [(p.record_id, p.data) for p in plans],
                access=self.access,
                atomic=False,
                lenient=True,
                # Changes were found against the records as read when the batch was planned:
                # one changed since fails rather than being overwritten blindly.
                expected=[p.existing["row_version"] for p in plans],
            )
        except sa.exc.IntegrityError:
            results = None
        except BaseException:
            savepoint.rollback()
            raise
        if results is None:
            savepoint.rollback()
            return False
        savepoint.commit()
        for p, result in zip(plans, results, strict=True):
            if isinstance(result, RecordError):
                self._fail(p, result)
        return True

    def _create(self, plans: list[RowPlan], dry_run: bool) -> None:
        results = self.records.create_many(
            self.conn,
            self.actor,
            self.planner.ce.name,
            [p.data for p in plans],
            access=self.access,
            lenient=True,
            atomic=False,
            dry_run=dry_run,
            names=[f"row {p.row}" for p in plans],
            seen=self.planner.unique_seen,
        )
        for p, result in zip(plans, results, strict=True):
            if isinstance(result, RecordError):
                self._fail(p, result)
            elif not dry_run:
                p.record_id = result["id"]

    def _update(self, p: RowPlan) -> None:
        # The changes were found against the record as read when the batch was planned: if
        # someone changed it since, the row fails rather than overwriting blindly.
        self.records.update(
            self.conn,
            self.actor,
            self.planner.ce.name,
            p.record_id,
            p.data,
            p.existing["row_version"],
            access=self.access,
            lenient=True,
        )

    def _guarded(self, p: RowPlan, write) -> None:
        """Write one record in its own savepoint; a refusal makes the row bad."""
        savepoint = self.conn.begin_nested()
        try:
            write(p)
        except RecordError as exc:
            savepoint.rollback()
            self._fail(p, exc)
        except sa.exc.IntegrityError as exc:
            savepoint.rollback()
            reason = str(exc.orig).splitlines()[0] if exc.orig else "constraint violated"
            p.errors.append(RowError(p.row, f"the database refused the record: {reason}"))
        except BaseException:
            savepoint.rollback()
            raise
        else:
            savepoint.commit()
        if p.errors:
            p.action = "bad"

    def _fail(self, p: RowPlan, exc: RecordError) -> None:
        column_of = self.columns.column_of
        problems = exc.problems or [{}]
        for problem in problems:
            name = problem.get("field")
            message = (
                str(exc)
                if isinstance(exc, RecordConflict) or not problem
                else problem.get("message", str(exc))
            )
            p.errors.append(RowError(p.row, message, name, column_of(name)))
        p.action = "bad"


_COUNTERS = {"create": "created", "update": "updated", "unchanged": "unchanged"}


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch is planned and written, on again
    (as it was) after it. A batch allocates tens of thousands of dictionaries that live until
    its end - none of them in reference cycles - and the collector would scan them, and the
    application's long-lived objects, over and over: a quarter of the CPU time of an import
    (measured with the collector off, bench.api_bench --import-only). Cycles made meanwhile
    are collected after the batch; the metadata compiler does the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _batches(rows, size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    """Non-blank rows, ``size`` at a time."""
    batch: list[tuple[int, list[Any]]] = []
    while chunk := list(itertools.islice(rows, size - len(batch))):
        try:  # CSV: all text, checked at C speed
            batch += [(n, cells) for n, cells in chunk if "".join(cells).strip()]
        except TypeError:
            batch += [(n, cells) for n, cells in chunk if not _blank(cells)]
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _blank(cells: list[Any]) -> bool:
    try:
        return not "".join(cells).strip()
    except TypeError:
        return all(is_empty(c) for c in cells)
