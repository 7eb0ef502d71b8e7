"""Errors of imports and exports; each maps to one HTTP status.

Problems that stop a whole import before any row is read (a file that is not a table, a column
mapped to a field the entity lacks, a key that is not unique) are raised. Problems of single rows
are not: they go into the :class:`~.report.ImportReport`, every one of them.
"""

from __future__ import annotations

from ..records.errors import RecordError


class TransferError(RecordError):
    status = 400
    title = "Import or export error"


class ImportFileError(TransferError):
    """The file cannot be read as a table: not CSV/XLSX, not the expected encoding, no header."""

    status = 400
    title = "Unreadable import file"


class ImportMappingError(TransferError):
    """The columns of the file cannot be mapped to the entity as asked (each problem names the
    column and the field)."""

    status = 422
    title = "Invalid column mapping"
