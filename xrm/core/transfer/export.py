"""Export records to CSV or XLSX, through the query runner.

Records are read with :func:`~xrm.core.query.run_query` page by page (keyset paging), so an
export sees exactly what a list does: the same filters, order and ``select``, and only what the
caller may see (the ``scopes`` and ``hidden`` fields handed to the runner). Memory stays flat:
CSV is produced as a stream of byte chunks (one per page), XLSX with openpyxl's write-only
workbook. Values are written as the import reads them back (see :mod:`.cells`), so exporting
and importing the file again with ``key=("id",)`` changes nothing.

``params`` is the query string a list takes (``status=eq.open``, ``order=name``,
``select=name,email``...). Its ``limit``, if any, caps the number of records exported;
``count`` is ignored; expansions (``select=account(name)``) cannot be exported.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, Literal

import sqlalchemy as sa

from ...metadata.compiler import MetadataSnapshot
from ...metadata.model import FieldSpec
from ..query import InvalidQuery, Query, QueryContext, parse_query, plan_query, run_query
from .cells import text_of, xlsx_of

Header = Literal["label", "name"]
PAGE_SIZE = 1000


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: a field of the entity (or a system field such as ``id``)."""

    name: str
    label: str
    type: str
    spec: FieldSpec

    def heading(self, header: Header) -> str:
        return self.label if header == "label" else self.name


class RecordExport:
    """The records a query selects, as columns and a stream of pages. The query is checked when
    this is made (an invalid query raises :class:`~xrm.core.query.InvalidQuery` before anything
    is produced); records are read as the pages are iterated, on ``conn``."""

    def __init__(
        self,
        conn: sa.Connection,
        snapshot: MetadataSnapshot,
        entity: str,
        params: Any = None,
        *,
        scopes: Mapping[str, sa.ColumnElement[bool]] | None = None,
        hidden: Mapping[str, Collection[str]] | None = None,
        page_size: int = PAGE_SIZE,
        cursor_secret: bytes | None = None,
    ):
        query = params if isinstance(params, Query) else parse_query(params or {})
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.conn, self.snapshot, self.entity = conn, snapshot, entity
        self.scopes, self.hidden = scopes or {}, hidden or {}
        self.page_size = page_size
        self.max_rows = query.limit
        self.query = dataclasses.replace(query, count=False, limit=page_size)
        # Cursors never leave this object unless the caller passed one in: a fresh secret does.
        self.secret = cursor_secret if cursor_secret is not None else os.urandom(16)
        ce = snapshot.entity(entity)
        ctx = QueryContext(snapshot, self.scopes, self.hidden, conn.dialect.name)
        plan = plan_query(ce, self.query, ctx, max_limit=max(page_size, 1))
        if plan.projection.expansions:
            raise InvalidQuery(
                "expanded references cannot be exported; select the reference field itself",
                parameter="select",
                field=next(iter(plan.projection.expansions)),
            )
        self.columns = [
            ExportColumn(ref.name, ref.label, ref.spec.type, ref.spec)
            for ref in plan.projection.fields
        ]

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        remaining = self.max_rows
        query = self.query
        while remaining is None or remaining > 0:
            size = self.page_size if remaining is None else min(self.page_size, remaining)
            result = run_query(
                self.conn,
                self.snapshot,
                self.entity,
                dataclasses.replace(query, limit=size),
                scopes=self.scopes,
                hidden=self.hidden,
                max_limit=max(self.page_size, 1),
                cursor_secret=self.secret,
            )
            if result.items:
                yield result.items
            if result.next_cursor is None:
                return
            if remaining is not None:
                remaining -= len(result.items)
            query = dataclasses.replace(query, cursor=result.next_cursor)


def export_csv(
    conn: sa.Connection,
    snapshot: MetadataSnapshot,
    entity: str,
    params: Any = None,
    *,
    scopes: Mapping[str, sa.ColumnElement[bool]] | None = None,
    hidden: Mapping[str, Collection[str]] | None = None,
    header: Header = "label",
    delimiter: str = ",",
    bom: bool = False,
    page_size: int = PAGE_SIZE,
    cursor_secret: bytes | None = None,
) -> Iterator[bytes]:
    """The records as UTF-8 CSV, a chunk of bytes per page (the header row first). ``bom``
    starts the file with a byte-order mark, which spreadsheet programs take as "UTF-8".

    The query is checked now; records are read while the chunks are consumed, so keep
    ``conn`` open until then.
    """
    export = RecordExport(
        conn,
        snapshot,
        entity,
        params,
        scopes=scopes,
        hidden=hidden,
        page_size=page_size,
        cursor_secret=cursor_secret,
    )
    _check_header(header)
    return _csv_chunks(export, header, delimiter, bom)


def _csv_chunks(export: RecordExport, header: Header, delimiter: str, bom: bool):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow([c.heading(header) for c in export.columns])
    yield (("\ufeff" if bom else "") + buffer.getvalue()).encode()
    formats = [(c.name, c.type) for c in export.columns]
    for page in export.pages():
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([text_of(t, item.get(n)) for n, t in formats] for item in page)
        yield buffer.getvalue().encode()


def export_xlsx(
    conn: sa.Connection,
    snapshot: MetadataSnapshot,
    entity: str,
    target: str | os.PathLike | IO[bytes],
    params: Any = None,
    *,
    scopes: Mapping[str, sa.ColumnElement[bool]] | None = None,
    hidden: Mapping[str, Collection[str]] | None = None,
    header: Header = "label",
    page_size: int = PAGE_SIZE,
    cursor_secret: bytes | None = None,
) -> int:
    """Write the records to ``target`` (a path or a binary stream) as an XLSX workbook with
    one sheet; returns the number of records written. Numbers, yes/no values, dates and
    whole-second date-times are typed cells; other values are text cells (never formulas)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    export = RecordExport(
        conn,
        snapshot,
        entity,
        params,
        scopes=scopes,
        hidden=hidden,
        page_size=page_size,
        cursor_secret=cursor_secret,
    )
    _check_header(header)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(entity))
    ws.freeze_panes = "A2"
    ws.append([_text_cell(ws, WriteOnlyCell, c.heading(header)) for c in export.columns])
    count = 0
    columns = [(c.name, c.type, c.spec) for c in export.columns]
    for page in export.pages():
        for item in page:
            row = []
            for name, ftype, spec in columns:
                value, number_format = xlsx_of(ftype, spec, item.get(name))
                if number_format is not None:
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = number_format
                    row.append(cell)
                elif isinstance(value, str):
                    row.append(_text_cell(ws, WriteOnlyCell, value))
                else:
                    row.append(value)
            ws.append(row)
        count += len(page)
    wb.save(target)
    return count


def _check_header(header: str) -> None:
    if header not in ("label", "name"):
        raise ValueError(f"header is 'label' or 'name', not {header!r}")


def _text_cell(ws, cell_class, text: str):
    """Text as a string cell: openpyxl would make a formula of ``=...``."""
    if not text.startswith("="):
        return text
    cell = cell_class(ws, value=text)
    cell.data_type = "s"
    return cell


def _sheet_title(entity: str) -> str:
    title = "".join("_" if ch in "[]:*?/\\" else ch for ch in entity)
    return title[:31] or "records"
