"""What an import is asked to do (:class:`ImportOptions`) and what it did (:class:`ImportReport`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class ImportMode(StrEnum):
    #: Any bad row and nothing is written; the report lists every bad row.
    ALL_OR_NOTHING = "all_or_nothing"
    #: Good rows are written, bad rows are reported and left out.
    SKIP_BAD_ROWS = "skip_bad_rows"


class EmptyCells(StrEnum):
    #: An empty cell clears the field of an existing record; on a new record it is "not given",
    #: so the field's default applies.
    NULL = "null"
    #: An empty cell leaves the field as it is (on a new record: not given).
    KEEP = "keep"


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file.

    ``mapping`` maps a column header (as written in the file) to a field name, or to None to
    ignore the column; columns it does not name are matched to a field whose name or label
    equals the header, ignoring case. ``key`` names the field(s) of a unique key (or ``id``)
    to upsert by: a row whose key matches an existing record updates it, otherwise it creates
    one. Without a key every row creates a record.
    """

    mapping: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    key: tuple[str, ...] = ()
    mode: ImportMode = ImportMode.ALL_OR_NOTHING
    dry_run: bool = False
    empty_cells: EmptyCells = EmptyCells.NULL
    batch_size: int = 1000

    def __post_init__(self) -> None:
        if isinstance(self.key, str):
            object.__setattr__(self, "key", (self.key,))
        object.__setattr__(self, "key", tuple(self.key))
        object.__setattr__(self, "mode", ImportMode(self.mode))
        object.__setattr__(self, "empty_cells", EmptyCells(self.empty_cells))
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")


@dataclass(frozen=True)
class RowError:
    """One problem of one row. ``row`` is the row number as a spreadsheet shows it (the header
    is row 1); ``column`` is the header of the column the value came from, when there is one."""

    row: int
    message: str
    field: str | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
            out["pointer"] = f"/{self.field}"
        if self.column is not None:
            out["column"] = self.column
        return out


@dataclass
class ImportReport:
    """The outcome of an import.

    ``created``, ``updated`` and ``unchanged`` count the good rows by what the import does with
    them; ``written`` says whether that was written: false for a dry run, and for an
    all-or-nothing import that found a bad row (then the counts say what a clean file would have
    done). ``skipped`` counts the bad rows, ``errors`` lists their problems (a row may have
    several). ``rows`` counts the data rows read (blank rows are not counted).
    """

    entity: str
    mode: ImportMode
    dry_run: bool
    key: tuple[str, ...] = ()
    written: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: column header -> field it was imported into
    columns: dict[str, str] = field(default_factory=dict)
    #: columns left out, each {"column": ..., "reason": ...}
    ignored_columns: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "mode": str(self.mode),
            "dryRun": self.dry_run,
            "key": list(self.key),
            "written": self.written,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
            "columns": dict(self.columns),
            "ignoredColumns": list(self.ignored_columns),
        }
