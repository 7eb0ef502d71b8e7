"""Reading CSV and XLSX files: a header, then numbered rows, one at a time."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from xrm.core.transfer import ImportFileError, open_table, read_csv, read_xlsx, sniff_delimiter


def rows(table) -> list[tuple[int, list]]:
    with table:
        return list(table.rows())


def xlsx(*lines: list, sheet: str = "Sheet") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for line in lines:
        ws.append(line)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_a_byte_order_mark_is_not_part_of_the_first_header():
    table = read_csv("\ufeffname,email\nAnn,a@x.org\n".encode())
    assert table.header == ["name", "email"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_taken_from_the_header_line(delimiter):
    text = delimiter.join(["name", "city", "age"]) + "\n" + delimiter.join(["Ann", "Köln", "3"])
    table = read_csv(text.encode())
    assert table.header == ["name", "city", "age"]
    assert rows(table) == [(2, ["Ann", "Köln", "3"])]


def test_a_delimiter_inside_quotes_does_not_count():
    assert sniff_delimiter('"last, first";"email";"age"\n') == ";"


def test_a_one_column_file_reads_with_a_comma():
    assert read_csv(b"name\nAnn\n").header == ["name"]


def test_a_quoted_cell_with_line_breaks_is_one_row_and_rows_are_numbered_as_a_spreadsheet_does():
    table = read_csv(b'name,notes\nAnn,"two\nlines"\n\nBob,x\n')
    assert rows(table) == [(2, ["Ann", "two\nlines"]), (3, []), (4, ["Bob", "x"])]


def test_text_that_is_not_utf8_is_refused_naming_the_row():
    table = read_csv("name\nAnn\nJosé\n".encode("cp1252"))
    with pytest.raises(ImportFileError, match=r"row 3: the file is not utf-8 text"):
        rows(table)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_lines_after_the_header_are_read_and_a_bad_byte_is_refused_in_its_row(bom):
    text = "name,city\nAnn,Köln\r\nBéa,Zürich\rCy,東京\n"
    assert rows(read_csv(bom + text.encode())) == [
        (2, ["Ann", "Köln"]),
        (3, ["Béa", "Zürich"]),
        (4, ["Cy", "東京"]),
    ]
    table = read_csv(bom + text.encode() + b"Dee,M\xfcnchen\n")
    with pytest.raises(ImportFileError, match=r"row 5: the file is not utf-8 text .*xfc"):
        rows(table)


def test_another_encoding_can_be_named():
    table = read_csv("name\nJosé\n".encode("cp1252"), encoding="cp1252")
    assert rows(table) == [(2, ["José"])]


def test_an_empty_file_is_refused():
    with pytest.raises(ImportFileError, match="empty"):
        read_csv(b"")


def test_a_caller_stream_is_left_open():
    stream = io.BytesIO(b"name\nAnn\n")
    with read_csv(stream) as table:
        list(table.rows())
    assert not stream.closed


def test_xlsx_cells_keep_their_types_and_blank_rows_keep_their_numbers():
    data = xlsx(
        ["name", "born", "age", "active"], ["Ann", dt.date(1990, 1, 2), 30, True], [], ["Bob"]
    )
    table = read_xlsx(data)
    assert table.header == ["name", "born", "age", "active"]
    got = rows(table)
    assert got[0] == (2, ["Ann", dt.datetime(1990, 1, 2), 30, True])
    assert got[1][0] == 3 and not any(got[1][1])
    assert got[2][0] == 4 and got[2][1][0] == "Bob"


def test_a_sheet_can_be_chosen_by_name():
    wb = openpyxl.Workbook()
    wb.active.append(["first"])
    wb.create_sheet("People").append(["name"])
    buffer = io.BytesIO()
    wb.save(buffer)
    assert read_xlsx(buffer.getvalue(), sheet="People").header == ["name"]


def test_an_unknown_sheet_is_refused_naming_the_sheets():
    with pytest.raises(ImportFileError, match=r"no sheet 'People' \(it has Contacts\)"):
        read_xlsx(xlsx(["name"], sheet="Contacts"), sheet="People")


def test_a_file_that_is_not_a_workbook_is_refused():
    with pytest.raises(ImportFileError, match="not an XLSX workbook"):
        read_xlsx(b"PK\x03\x04 not really a zip")


def test_a_sheet_without_a_header_row_is_refused():
    with pytest.raises(ImportFileError, match="row 1"):
        read_xlsx(xlsx([], ["Ann"]))


def test_the_format_is_recognised_from_the_content_or_the_file_name(tmp_path):
    assert open_table(xlsx(["name"])).format == "xlsx"
    assert open_table(b"name\nAnn\n").format == "csv"
    path = tmp_path / "people.csv"
    path.write_bytes(b"name\nAnn\n")
    with open_table(path) as table:
        assert table.format == "csv" and rows(table) == [(2, ["Ann"])]


def test_an_unknown_format_is_refused():
    with pytest.raises(ImportFileError, match="'ods'"):
        open_table(b"x", format="ods")


def test_old_mac_line_endings_are_read():
    table = read_csv(b"name,age\rAnn,3\rBob,4\r")
    assert rows(table) == [(2, ["Ann", "3"]), (3, ["Bob", "4"])]


def test_utf16_text_as_spreadsheets_save_it_is_read():
    text = "name\tcity\r\nAnn\tKöln\r\n".encode("utf-16")
    table = read_csv(text, encoding="utf-16")
    assert table.header == ["name", "city"]
    assert rows(table) == [(2, ["Ann", "Köln"])]
