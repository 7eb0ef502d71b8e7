"""Import and export of records as CSV and XLSX files. Pure core: no Flask.

Imports go through the record service (permissions, validation with the field types' lenient
coercion, references, uniqueness, plugin hooks, audit, outbox); exports go through the query
runner (filters, order, ``select``, scopes and hidden fields). Both stream: a file of any size is
handled a batch or a page at a time. Guide: ``docs/import-export.md``.

Public API::

    report = import_file(records, conn, actor, "crm.contact", "contacts.csv",
                         ImportOptions(key=("email",), mode=ImportMode.SKIP_BAD_ROWS))
    report.created, report.updated, report.unchanged, report.skipped, report.errors

    for chunk in export_csv(conn, snapshot, "crm.contact", {"status": "eq.customer"},
                            scopes=scopes, hidden=hidden):
        out.write(chunk)
    export_xlsx(conn, snapshot, "crm.contact", "contacts.xlsx", {"order": "name"})
"""

from __future__ import annotations

from .errors import ImportFileError, ImportMappingError, TransferError
from .export import ExportColumn, RecordExport, export_csv, export_xlsx
from .importer import import_file
from .mapping import ColumnMap, resolve_columns
from .report import EmptyCells, ImportMode, ImportOptions, ImportReport, RowError
from .sources import TabularFile, open_table, read_csv, read_xlsx, sniff_delimiter

__all__ = [
    "ColumnMap",
    "EmptyCells",
    "ExportColumn",
    "ImportFileError",
    "ImportMappingError",
    "ImportMode",
    "ImportOptions",
    "ImportReport",
    "RecordExport",
    "RowError",
    "TabularFile",
    "TransferError",
    "export_csv",
    "export_xlsx",
    "import_file",
    "open_table",
    "read_csv",
    "read_xlsx",
    "resolve_columns",
    "sniff_delimiter",
]
