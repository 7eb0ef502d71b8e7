"""Export, then import the file again: nothing changes. Edit the file: only the edits change."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from transfer_support import Crm

from xrm.core.context import SYSTEM


@pytest.fixture
def filled(crm) -> Crm:
    acme = crm.create("crm.account", name="Acme")
    vip = crm.create("crm.tag", name="vip")
    new = crm.create("crm.tag", name="new")
    crm.create(
        "crm.contact",
        name="Ann",
        email="ann@example.org",
        first="Ann",
        last="A",
        age=30,
        score=0.1,
        rating="12.5",
        active=True,
        born="1990-01-02",
        seen_at="2026-03-01T09:30:00.123456Z",
        status="customer",
        channels=["phone", "email"],
        budget={"amount": "-3.5", "currency": "USD"},
        account=acme,
        tags=[new, vip],
        about={"entity": "crm.account", "id": acme},
        prefs={"nested": {"list": [1, "two", None]}, "ünïcode": "✓"},
        notes='two\nlines, "quoted"; and more',
        key=str(uuid.uuid4()),
        salary=0,
    )
    crm.create("crm.contact", name="=1+2", email="b@example.org", active=False, first="", notes=" ")
    crm.create("crm.contact", name="Cid")  # everything else empty
    return crm


def state(crm: Crm) -> list[dict]:
    return crm.all("crm.contact")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("header", ["label", "name"])
def test_importing_an_export_by_id_changes_nothing(filled, fmt, header):
    before, audited, messages = state(filled), filled.audit_count(), filled.outbox_count()
    data = filled.export_csv(header=header) if fmt == "csv" else filled.export_xlsx(header=header)
    report = filled.import_(data, key=("id",))
    assert report.ok, report.errors
    assert (report.unchanged, report.updated, report.created) == (3, 0, 0)
    assert state(filled) == before
    assert (filled.audit_count(), filled.outbox_count()) == (audited, messages)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_importing_an_export_by_a_unique_key_changes_nothing(filled, fmt):
    before = state(filled)
    # Cid has no e-mail, so the file is filtered to the records that have one.
    data = (
        filled.export_csv(params={"email": "not.is.null"})
        if fmt == "csv"
        else filled.export_xlsx(params={"email": "not.is.null"})
    )
    report = filled.import_(data, key=("email",))
    assert report.ok, report.errors
    assert (report.unchanged, report.updated, report.created) == (2, 0, 0)
    assert state(filled) == before


def test_an_edited_export_updates_only_the_edited_records_and_fields(filled):
    rows = list(csv.reader(io.StringIO(filled.export_csv(header="name"))))
    header = rows[0]
    ann = rows[1]
    ann[header.index("age")] = "31"
    ann[header.index("tags")] = ""
    rows.append([""] * len(header))
    rows[-1][header.index("name")] = "Dan"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    before = {r["id"]: r for r in state(filled)}

    report = filled.import_(out.getvalue(), key=("id",))

    assert (report.updated, report.unchanged, report.created) == (1, 2, 1)
    after = {r["id"]: r for r in state(filled)}
    ann_id = int(ann[0])
    assert after[ann_id]["age"] == 31 and after[ann_id]["tags"] == []
    assert after[ann_id]["row_version"] == before[ann_id]["row_version"] + 1
    unchanged = {k: v for k, v in after.items() if k in before and k != ann_id}
    assert unchanged == {k: v for k, v in before.items() if k != ann_id}


def test_links_to_records_in_the_recycle_bin_are_neither_exported_nor_dropped(filled):
    tags = {t["name"]: t["id"] for t in filled.all("crm.tag")}
    with filled.engine.begin() as conn:
        filled.service.delete(conn, SYSTEM, "crm.tag", tags["vip"])
    report = filled.import_(filled.export_csv(), key=("id",))
    assert report.unchanged == 3
    with filled.engine.begin() as conn:
        filled.service.restore(conn, SYSTEM, "crm.tag", tags["vip"])
    ann = next(c for c in filled.all("crm.contact") if c["name"] == "Ann")
    assert ann["tags"] == sorted(tags.values())
