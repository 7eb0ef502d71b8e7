"""Decide, for a batch of rows, what the import does with each: create, update, leave unchanged,
or report as bad.

Rows that create a record are left to :meth:`RecordService.create_many` (which validates and
checks them, batched, with a dry run when nothing is to be written). Rows that update one are
checked here with the record service's own checks, in its order (permission, validation with
the field types' lenient coercion, references, uniqueness: :mod:`xrm.core.records.checks`, one
query per reference target and per unique key, not one per row), to find what actually
changes. Duplicates within the file are found too: a key or unique value given by an earlier
row is a problem of the later row.

Each stage only sees the rows that passed the stages before it, as the service stops at the
first failing step: every bad row is reported, with the problems of the step that refused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.fieldtypes import FieldValueError
from ..records import rows as storage
from ..records.checks import chunks, in_list, missing_references, unique_conflicts
from ..security.access import Access
from .cells import TEXT_TRANSLATED, VERBATIM_TYPES, cell_input, is_empty, text_of
from .mapping import ColumnMap
from .report import EmptyCells, ImportOptions, RowError


@dataclass(slots=True)
class RowPlan:
    """What to do with one row. ``data`` is the lenient input of the fields to write (for the
    record service); ``values`` (updates) the changed values coerced."""

    row: int
    action: str = "create"  # create | update | unchanged | bad
    data: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None
    key: tuple | None = None
    key_input: dict[str, Any] = field(default_factory=dict)
    existing: dict[str, Any] | None = None
    existing_row: dict[str, Any] | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RowPlanner:
    """Plans the rows of one import, batch by batch, remembering keys and unique values seen
    in earlier rows of the file."""

    def __init__(
        self,
        conn: sa.Connection,
        snapshot: MetadataSnapshot,
        ce: CompiledEntity,
        access: Access,
        columns: ColumnMap,
        options: ImportOptions,
    ):
        self._conn = conn
        self.snapshot = snapshot
        self.ce = ce
        self.access = access
        self.columns = columns
        self.options = options
        self.width = len(columns.headers)
        # (column index, field name, spec, whether text goes to the field type unchanged,
        # whether text is kept verbatim: only an empty cell is empty, spaces are text)
        self.specs = [
            (i, f, cf.spec, cf.spec.type not in TEXT_TRANSLATED, cf.spec.type in VERBATIM_TYPES)
            for i, f in columns.fields
            for cf in (ce.fields[f],)
        ]
        self.key_columns = [c for k in columns.key if k != "id" for c in ce.fields[k].columns]
        self.seen_keys: dict[tuple, int] = {}
        #: unique values given by earlier rows of the file (for the record service's check)
        self.unique_seen: dict[tuple, str] = {}
        self.readonly = access.readonly(ce.name)
        self.dump = storage.dumper(ce)
        self.links = [f for _, f in columns.fields if ce.fields[f].type.association]

    # -- the stages -------------------------------------------------------------------------

    def plan(self, batch: Sequence[tuple[int, list[Any]]]) -> list[RowPlan]:
        plans = self._read_all(batch)
        self._match(plans)
        may = {a: self.access.can(self.ce.name, a) for a in ("create", "update")}
        for p in plans:
            if not p.errors:
                self._validate(p, may)
        # New records are checked by the record service as it creates them (create_many).
        self._check_references([p for p in plans if not p.errors and p.action == "update"])
        self._check_unique([p for p in plans if not p.errors and p.action == "update"])
        for p in plans:
            if p.errors:
                p.action = "bad"
        return plans

    def _read_all(self, batch: Sequence[tuple[int, list[Any]]]) -> list[RowPlan]:
        """:meth:`_read` of each row, column by column for the rows of the header's width (a
        CSV file's): each field's cells of the batch are read in one pass (C loops where its
        cells are all text), the row's data then zipped from the columns. Same values, same
        problems in the same order."""
        width = self.width
        odd = {n for n, (_, cells) in enumerate(batch) if len(cells) != width}
        plans = [
            self._read(number, cells) if n in odd else RowPlan(number)
            for n, (number, cells) in enumerate(batch)
        ]
        return plans if len(odd) == len(batch) else self._read_columns(batch, odd, plans)

    def _read_columns(self, batch, odd: set[int], plans: list[RowPlan]) -> list[RowPlan]:
        rows = [cells for n, (_, cells) in enumerate(batch) if n not in odd]
        mine = [p for n, p in enumerate(plans) if n not in odd]
        # An empty cell is None (it clears the field of a record found by the key), or not
        # given when empty cells are kept - and on every row when there is no key: all of
        # them create, and an empty cell is "not given" on a new record.
        keep = self.options.empty_cells is EmptyCells.KEEP or not self.columns.key
        names, columns = [], []
        for i, name, spec, plain, verbatim in self.specs:
            cells = list(map(itemgetter(i), rows))
            names.append(name)
            if plain and set(map(type, cells)) == {str}:
                # Text for the field type as it is; empty (only "" when verbatim, else also
                # spaces) is None, or not given when empty cells are kept.
                empty = _SKIP if keep else None
                if "" in cells or (not verbatim and any(map(str.isspace, cells))):
                    cells = [empty if not c or (not verbatim and c.isspace()) else c for c in cells]
                columns.append(cells)
                continue
            column = []
            for p, cell in zip(mine, cells, strict=True):
                if cell.__class__ is str and (not cell or (not verbatim and cell.isspace())):
                    cell = None
                if cell is None:
                    column.append(_SKIP if keep else None)
                    continue
                if cell.__class__ is str and plain:
                    column.append(cell)
                    continue
                try:
                    column.append(cell_input(spec, cell))
                except FieldValueError as exc:
                    column.append(_SKIP)
                    self._error(p, f"{spec.label} {exc}", name)
            columns.append(column)
        for p, values in zip(mine, zip(*columns, strict=True), strict=True):
            p.data = (
                {k: v for k, v in zip(names, values, strict=True) if v is not _SKIP}
                if _SKIP in values
                else dict(zip(names, values, strict=True))
            )
        if self.columns.key_columns:
            for p, cells in zip(mine, rows, strict=True):
                self._read_key(p, cells)
        return plans

    def _read(self, number: int, cells: list[Any]) -> RowPlan:
        p = RowPlan(number)
        if len(cells) > self.width and any(not is_empty(c) for c in cells[self.width :]):
            self._error(p, f"the row has {len(cells)} cells but the header only {self.width}")
            return p
        keep = self.options.empty_cells is EmptyCells.KEEP
        data, width = p.data, len(cells)
        for i, name, spec, plain, verbatim in self.specs:
            cell = cells[i] if i < width else None
            if cell.__class__ is str:
                if not cell or (not verbatim and cell.isspace()):
                    cell = None
                elif plain:
                    data[name] = cell
                    continue
            if cell is None:
                if not keep:
                    data[name] = None
                continue
            try:
                data[name] = cell_input(spec, cell)
            except FieldValueError as exc:
                self._error(p, f"{spec.label} {exc}", name)
        self._read_key(p, cells)
        return p

    def _read_key(self, p: RowPlan, cells: list[Any]) -> None:
        for k, i in self.columns.key_columns.items():
            cell = cells[i] if i < len(cells) else None
            if k == "id":
                p.record_id = self._record_id(p, cell)
            elif is_empty(cell):
                self._error(p, f"{self.ce.fields[k].spec.label} is empty; it is the key", k)
            else:
                p.key_input[k] = cell

    def _record_id(self, p: RowPlan, cell: Any) -> int | None:
        if is_empty(cell):
            return None  # a new record
        text = cell if isinstance(cell, str) else repr(cell)
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        if isinstance(cell, str) and cell.strip().isdigit():
            cell = int(cell.strip())
        if isinstance(cell, int) and not isinstance(cell, bool) and 0 < cell < 2**63:
            return cell
        self._error(p, f"Id {text} is not a record id", "id")
        return None

    def _match(self, plans: list[RowPlan]) -> None:
        """Find the existing record of each row by its key (rows without a key create)."""
        key = self.columns.key
        if not key:
            return
        wanted: dict[tuple, RowPlan] = {}
        for p in plans:
            if p.errors:
                continue
            if key == ("id",):
                if p.record_id is None:
                    continue
                p.key = (p.record_id,)
            else:
                p.key = self._key_of(p)
                if p.key is None:
                    continue
            first = self.seen_keys.setdefault(p.key, p.row)
            if first != p.row:
                labels = ", ".join(self._label(k) for k in key)
                self._error(p, f"row {first} has the same {labels}", key[0])
                continue
            wanted[p.key] = p
        t = self.ce.table
        cols = [t.c.id] if key == ("id",) else [t.c[c] for c in self.key_columns]
        found: dict[tuple, dict] = {}
        for chunk in chunks(list(wanted)):
            where = [t.c.deleted_at.is_(None), in_list(cols, chunk)]
            scope = self.access.scope_clause(self.ce.name, t)
            if scope is not None:
                where.append(scope)
            for row in self._conn.execute(sa.select(t).where(*where)).mappings():
                found[tuple(row[c.name] for c in cols)] = dict(row)
        links = self._links_of([r["id"] for r in found.values()])
        for k, p in wanted.items():
            row = found.get(k)
            if row is None:
                if key == ("id",):
                    self._error(p, f"{self.ce.name} {p.record_id} does not exist", "id")
                elif any(self._readonly(f) for f in key):
                    labels = ", ".join(self._label(f) for f in key)
                    self._error(
                        p,
                        f"no {self.ce.name} has this {labels}; it is read-only, so no record can be created with it",
                        key[0],
                    )
                continue
            p.action = "update"
            p.record_id = row["id"]
            p.existing_row = row
            p.existing = self.dump(row)
            for f in self.links:
                p.existing[f] = links.get((f, row["id"]), [])

    def _key_of(self, p: RowPlan) -> tuple | None:
        values = {}
        for k, raw in p.key_input.items():
            cf = self.ce.fields[k]
            try:
                values[k] = cf.type.coerce(cf.spec, cell_input(cf.spec, raw), True)
            except FieldValueError as exc:
                self._error(p, f"{cf.spec.label} {exc}", k)
        if p.errors:
            return None
        row = storage.to_row(self.ce, values)
        return tuple(row[c] for c in self.key_columns)

    def _links_of(self, ids: list[int]) -> dict[tuple[str, int], list[int]]:
        """The many-to-many links of records, as the record service shows them: not to
        records in the recycle bin, nor outside the actor's scope."""
        out: dict[tuple[str, int], list[int]] = {}
        for f in self.links:
            assoc = self.ce.associations[f]
            target = self.snapshot.entity(self.ce.fields[f].spec.opt("target"))
            tt = target.table
            visible = [tt.c.deleted_at.is_(None)]
            scope = self.access.scope_clause(target.name, tt)
            if scope is not None:
                visible.append(scope)
            for chunk in chunks(ids):
                q = (
                    sa.select(assoc.c.source_id, assoc.c.target_id)
                    .join(tt, tt.c.id == assoc.c.target_id)
                    .where(assoc.c.source_id.in_(chunk), *visible)
                    .order_by(assoc.c.source_id, assoc.c.target_id)
                )
                for source, linked in self._conn.execute(q):
                    out.setdefault((f, source), []).append(linked)
        return out

    def _validate(self, p: RowPlan, may: dict[str, bool]) -> None:
        ce, access = self.ce, self.access
        action = "update" if p.action == "update" else "create"
        if not may[action]:
            self._error(p, f"{access.actor.username} may not {action} {ce.name} records")
            return
        if action == "create":
            # An empty cell is "not given" on a new record: the default applies. The record
            # service validates and checks the rest (RecordService.create_many).
            if None in p.data.values():
                p.data = {k: v for k, v in p.data.items() if v is not None}
            return
        values, problems = ce.validate(p.data, partial=True, lenient=True)
        refused = {pr.field: pr.message for pr in problems}
        changed, changed_values = {}, {}
        for f, raw in p.data.items():
            old = p.existing.get(f)
            cf = ce.fields[f]
            if isinstance(raw, str) and raw == text_of(cf.spec.type, old):
                continue  # as exported: unchanged, even if the field's rules have since moved
            if f in refused:
                self._error(p, refused[f], f)
            elif not _same(old, _json_of(cf, values[f])):
                changed[f], changed_values[f] = raw, values[f]
        p.data, p.values = changed, changed_values
        if p.ok and not changed:
            p.action = "unchanged"
        for f in (f for f in changed if f in self.readonly):
            self._error(p, f"you may not write {ce.fields[f].spec.label}", f)

    def _check_references(self, plans: list[RowPlan]) -> None:
        found = missing_references(self._conn, self.snapshot, self.ce, [p.values for p in plans])
        for p, problems in zip(plans, found, strict=True):
            for pr in problems:
                self._error(p, pr["message"], pr["field"])

    def _check_unique(self, plans: list[RowPlan]) -> None:
        conflicts = unique_conflicts(
            self._conn,
            self.ce,
            [storage.to_row(self.ce, p.values) for p in plans],
            current=[p.existing_row for p in plans],
            record_ids=[p.record_id for p in plans],
            names=[f"row {p.row}" for p in plans],
            seen=self.unique_seen,
        )
        for p, conflict in zip(plans, conflicts, strict=True):
            if conflict is not None:
                for pr in conflict.problems:
                    self._error(p, str(conflict), pr["field"])

    # -- helpers ------------------------------------------------------------------------------

    def _error(self, p: RowPlan, message: str, field_name: str | None = None) -> None:
        p.errors.append(RowError(p.row, message, field_name, self.columns.column_of(field_name)))

    def _label(self, name: str) -> str:
        return "Id" if name == "id" else self.ce.fields[name].spec.label

    def _readonly(self, name: str) -> bool:
        cf = self.ce.fields[name]
        return cf.type.generated or cf.spec.readonly


#: A cell that gives no value: an empty cell kept (``EmptyCells.KEEP``), or one refused.
_SKIP = object()


def _json_of(cf, value: Any) -> Any:
    """A coerced value as the record would show it once stored."""
    if cf.type.association:
        return sorted(value or [])
    if len(cf.columns) > 1 and value is None:
        value = (None,) * len(cf.columns)
    return cf.type.dump(cf.spec, value)


def _same(old: Any, new: Any) -> bool:
    empty = (None, "", [])
    return old == new or (old in empty and new in empty)
