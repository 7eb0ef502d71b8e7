"""Read CSV and XLSX files as a header plus a stream of numbered rows.

Nothing here knows about entities. A :class:`TabularFile` yields ``(row_number, cells)`` one
row at a time, so a file of any length is read in constant memory; the row number is the one a
spreadsheet shows (the header is row 1, blank rows count), so a report can point at the row.

CSV: UTF-8 by default, with or without a byte-order mark; the delimiter (comma, semicolon or
tab) is taken from the header line unless given. A record spanning several lines (a quoted cell
with line breaks) is one row, as in a spreadsheet. XLSX: the first worksheet unless one is named,
read in openpyxl's read-only mode; cells keep their types (numbers, dates, booleans), and
formulas give the value the spreadsheet last computed.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import ImportFileError

Source = str | os.PathLike | bytes | IO[bytes] | IO[str]

DELIMITERS = (",", ";", "\t")
XLSX_MAGIC = b"PK\x03\x04"
CR_SPLIT = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")


class TabularFile:
    """A header and numbered rows; use as a context manager, or call :meth:`close`."""

    def __init__(
        self, format: str, header: list[str], rows: Iterator[tuple[int, list[Any]]], close=None
    ):
        self.format = format
        self.header = header
        self._rows = rows
        self._close = close

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(row_number, cells)`` for every row after the header, in file order."""
        return self._rows

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> TabularFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(
    source: Source | TabularFile,
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    sheet: str | None = None,
) -> TabularFile:
    """Open ``source`` (a path, bytes, or a binary/text stream) as CSV or XLSX. Without
    ``format``, a path's suffix decides, else the content (an XLSX file is a ZIP archive)."""
    if isinstance(source, TabularFile):
        return source
    fmt = (format or _guess_format(source)).lower()
    if fmt == "csv":
        return read_csv(source, delimiter=delimiter, encoding=encoding)
    if fmt == "xlsx":
        return read_xlsx(source, sheet=sheet)
    raise ImportFileError(f"cannot import {fmt!r} files; use CSV or XLSX")


def _guess_format(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        suffix = Path(source).suffix.lower().lstrip(".")
        if suffix in ("csv", "xlsx", "txt", "tsv"):
            return "xlsx" if suffix == "xlsx" else "csv"
        with open(source, "rb") as f:
            head = f.read(4)
    elif isinstance(source, bytes | bytearray):
        head = bytes(source[:4])
    elif isinstance(source, io.TextIOBase):
        return "csv"
    elif source.seekable():
        pos = source.tell()
        head = source.read(4)
        source.seek(pos)
    else:
        return "csv"
    return "xlsx" if head == XLSX_MAGIC else "csv"


# -- CSV ------------------------------------------------------------------------------------------


def read_csv(
    source: Source, *, delimiter: str | None = None, encoding: str = "utf-8-sig"
) -> TabularFile:
    """Open a CSV file. ``utf-8-sig`` reads UTF-8 with or without a byte-order mark."""
    lines, close = _text_lines(source, encoding)
    try:
        first = next(lines, "")
    except UnicodeDecodeError as exc:
        close()
        raise _decode_error(exc, 1, encoding) from None
    first = first.lstrip("\ufeff")  # a BOM inside text that was decoded elsewhere
    if not first.strip():
        close()
        raise ImportFileError("the file is empty: row 1 must hold the column headers")
    delimiter = delimiter or sniff_delimiter(first)
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    return TabularFile("csv", header, _csv_rows(reader, encoding), close)


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file, from its header line: whichever of comma, semicolon and tab
    occurs most often outside quotes (a comma when none does, as in a one-column file)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(reader, encoding: str) -> Iterator[tuple[int, list[Any]]]:
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _decode_error(exc, number, encoding) from None
        except csv.Error as exc:
            raise ImportFileError(f"row {number}: {exc}") from None
        yield number, cells


def _decode_error(exc: UnicodeDecodeError, row: int, encoding: str) -> ImportFileError:
    return ImportFileError(
        f"row {row}: the file is not {encoding.removesuffix('-sig')} text "
        f"(byte {exc.object[exc.start : exc.start + 1]!r}); save it as CSV UTF-8 "
        "or name its encoding"
    )


def _text_lines(source: Source, encoding: str) -> tuple[Iterator[str], Callable[[], None]]:
    """(the lines of the file as text, a function closing what was opened here).

    Bytes are decoded line by line, so a byte that is not valid in the encoding is reported in
    the row it is in (a text stream would decode kilobytes ahead).
    """
    if isinstance(source, io.TextIOBase):
        return iter(source), lambda: None
    owned = isinstance(source, str | os.PathLike)
    if owned:
        binary: IO[bytes] = open(source, "rb")  # noqa: SIM115 (closed by the caller)
    elif isinstance(source, bytes | bytearray):
        binary = io.BytesIO(source)
    else:
        binary = source  # the caller's stream stays open
    close = binary.close if owned else (lambda: None)
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        # Line breaks are not single bytes there: let a text stream find them.
        text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        return iter(text), (text.close if owned else text.detach)
    return _decode(binary, encoding), close


def _decode(binary: IO[bytes], encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)()
    # UTF-8 never has a line break byte inside a character, so once the decoder holds nothing
    # back (the byte-order mark is behind it) each line decodes on its own: ``bytes.decode``,
    # five times cheaper than the incremental decoder's Python-level call.
    linewise = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    for raw in binary:
        # Split at a lone CR too (old Mac files), as a text stream with newline="" does.
        parts = CR_SPLIT.findall(raw) if b"\r" in raw[:-2] else (raw,)
        for part in parts:
            if part:
                yield decoder.decode(part)
        if linewise and not decoder.getstate()[0]:
            break
    else:
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail
        return
    for raw in binary:
        if b"\r" in raw[:-2]:
            for part in CR_SPLIT.findall(raw):
                if part:
                    yield part.decode("utf-8")
        else:
            yield raw.decode("utf-8")


# -- XLSX -----------------------------------------------------------------------------------------


def read_xlsx(source: Source, *, sheet: str | None = None) -> TabularFile:
    """Open a worksheet of an XLSX workbook (the first one unless ``sheet`` names another)."""
    import openpyxl

    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    try:
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"the file is not an XLSX workbook ({exc})") from None
    if sheet is None:
        ws = wb.worksheets[0]
    elif sheet in wb.sheetnames:
        ws = wb[sheet]
    else:
        wb.close()
        raise ImportFileError(
            f"the workbook has no sheet {sheet!r} (it has {', '.join(wb.sheetnames)})"
        )
    # Some writers store wrong sheet dimensions; read what is there instead.
    ws.reset_dimensions()
    rows = enumerate(ws.iter_rows(min_row=1, values_only=True), start=1)
    first = next(rows, None)
    if first is None or not any(c is not None and str(c).strip() for c in first[1]):
        wb.close()
        raise ImportFileError("row 1 of the sheet must hold the column headers")
    header = ["" if c is None else str(c).strip() for c in first[1]]
    return TabularFile("xlsx", header, ((n, list(cells)) for n, cells in rows), wb.close)
