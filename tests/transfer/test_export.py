"""Exporting through the query runner: its filters, order, selection, scopes and hidden fields,
page by page, as CSV text or XLSX cells the import reads back."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from xrm.core.query import InvalidQuery
from xrm.core.transfer import RecordExport, export_csv


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def sheet(data: bytes) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return list(wb.worksheets[0].iter_rows(values_only=True))


@pytest.fixture
def people(crm):
    for name, age, status in [
        ("Ann", 30, "lead"),
        ("Bob", 40, "customer"),
        ("Cid", 50, "customer"),
    ]:
        crm.create("crm.contact", name=name, age=age, status=status, salary=age * 1000)
    return crm


def test_the_header_row_holds_field_labels_or_names(people):
    labels = table(people.export_csv(params={"select": "name,seen_at"}))[0]
    names = table(people.export_csv(params={"select": "name,seen_at"}, header="name"))[0]
    assert labels == ["Id", "Full name", "Seen at"]
    assert names == ["id", "name", "seen_at"]


def test_without_a_selection_every_readable_field_is_exported(people):
    header = table(people.export_csv(header="name"))[0]
    assert header[:3] == ["id", "name", "email"]
    assert header[-3:] == ["updated_by", "owner_id", "row_version"]


def test_filters_order_and_selection_are_the_query_runners(people):
    rows = table(
        people.export_csv(
            params={"status": "eq.customer", "order": "age.desc", "select": "name,age"}
        )
    )
    assert [r[1:] for r in rows[1:]] == [["Cid", "50"], ["Bob", "40"]]


def test_scopes_and_hidden_fields_are_honoured(people):
    t = people.registry.snapshot().entity("crm.contact").table
    rows = table(
        people.export_csv(
            scopes={"crm.contact": t.c.age < 45},
            hidden={"crm.contact": {"salary"}},
            header="name",
        )
    )
    assert "salary" not in rows[0]
    assert [r[1] for r in rows[1:]] == ["Ann", "Bob"]


def test_a_hidden_field_cannot_be_selected(people):
    with pytest.raises(InvalidQuery, match="not readable"):
        people.export_csv(params={"select": "name,salary"}, hidden={"crm.contact": {"salary"}})


def test_large_results_are_read_and_streamed_page_by_page(crm):
    for i in range(10):
        crm.create("crm.contact", name=f"P{i:02d}")
    statements = []
    with crm.engine.connect() as conn:
        sa.event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        chunks = export_csv(
            conn, crm.registry.snapshot(conn), "crm.contact", {"order": "name"}, page_size=3
        )
        header = next(chunks)
        assert not [s for s in statements if "crm_contact" in s]  # nothing read for the header
        pages = list(chunks)
    assert header.decode().startswith("Id,")
    assert [len(table(p.decode())) for p in pages] == [3, 3, 3, 1]
    names = [r[1] for p in pages for r in table(p.decode())]
    assert names == [f"P{i:02d}" for i in range(10)]


def test_a_limit_caps_the_records_exported(crm):
    for i in range(7):
        crm.create("crm.contact", name=f"P{i}")
    rows = table(crm.export_csv(params={"limit": "5", "order": "name"}, page_size=2))
    assert len(rows) == 1 + 5


def test_an_invalid_query_is_refused_before_anything_is_produced(crm):
    with crm.engine.connect() as conn, pytest.raises(InvalidQuery, match="nope"):
        export_csv(conn, crm.registry.snapshot(conn), "crm.contact", {"nope": "eq.1"})


def test_expanded_references_cannot_be_exported(crm):
    with crm.engine.connect() as conn, pytest.raises(InvalidQuery, match="cannot be exported"):
        RecordExport(
            conn, crm.registry.snapshot(conn), "crm.contact", {"select": "name,account(name)"}
        )


def test_values_are_written_as_text_the_import_reads(crm):
    acme = crm.create("crm.account", name="Acme")
    vip = crm.create("crm.tag", name="vip")
    crm.create(
        "crm.contact",
        name="Ann",
        active=False,
        budget={"amount": "12.5", "currency": "EUR"},
        channels=["phone", "email"],
        tags=[vip],
        about={"entity": "crm.account", "id": acme},
        prefs={"b": [1, 2], "a": "x"},
        seen_at="2026-03-01T09:30:00+02:00",
        score=0.1,
    )
    select = "active,budget,channels,tags,about,prefs,seen_at,score,age"
    row = table(crm.export_csv(params={"select": select}, header="name"))[1]
    assert row[1:] == [
        "false",
        "12.50 EUR",
        "phone; email",
        str(vip),
        f"crm.account:{acme}",
        '{"a": "x", "b": [1, 2]}',
        "2026-03-01T07:30:00Z",
        "0.1",
        "",
    ]


def test_a_byte_order_mark_and_another_delimiter_can_be_asked_for(people):
    text = people.export_csv(params={"select": "name", "order": "name"}, bom=True, delimiter=";")
    assert text.startswith("\ufeffId;Full name\r\n")


def test_xlsx_has_a_header_row_and_typed_cells(crm):
    crm.create(
        "crm.contact",
        name="Ann",
        age=30,
        active=True,
        rating="12.5",
        born="1990-01-02",
        seen_at="2026-03-01T09:30:00Z",
        score=1.25,
    )
    rows = sheet(crm.export_xlsx(params={"select": "name,age,active,rating,born,seen_at,score"}))
    assert rows[0] == ("Id", "Full name", "Age", "Active", "Rating", "Born", "Seen at", "Score")
    assert rows[1][1:] == (
        "Ann",
        30,
        True,
        12.5,
        dt.datetime(1990, 1, 2),
        dt.datetime(2026, 3, 1, 9, 30),
        1.25,
    )


def test_xlsx_keeps_instants_finer_than_a_second_as_text(crm):
    crm.create("crm.contact", name="Ann", seen_at="2026-03-01T09:30:00.123456Z")
    rows = sheet(crm.export_xlsx(params={"select": "seen_at"}))
    assert rows[1][1] == "2026-03-01T09:30:00.123456Z"


def test_xlsx_text_that_looks_like_a_formula_stays_text(crm):
    crm.create("crm.contact", name='=HYPERLINK("http://evil")')
    wb = openpyxl.load_workbook(io.BytesIO(crm.export_xlsx(params={"select": "name"})))
    cell = wb.worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil")'


def test_xlsx_export_streams_pages_and_counts_records(crm):
    for i in range(5):
        crm.create("crm.contact", name=f"P{i}")
    assert len(sheet(crm.export_xlsx(page_size=2))) == 1 + 5


def test_the_header_option_is_checked_before_anything_is_produced(crm):
    with crm.engine.connect() as conn, pytest.raises(ValueError, match="'label' or 'name'"):
        export_csv(conn, crm.registry.snapshot(conn), "crm.contact", header="labels")
