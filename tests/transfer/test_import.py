"""Importing CSV and XLSX files through the record service: coercion, dry runs, modes, upsert,
the checks of the one write path, and what is written besides the records."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
import sqlalchemy as sa
from transfer_support import ACCOUNT, CONTACT, TAG, Crm, FixedAccess, csv_text

from xrm.core.context import SYSTEM, Actor
from xrm.core.jobs.store import read_payload
from xrm.core.plugins import RecordVetoed, create_plugin_manager, hookimpl
from xrm.core.records.service import RecordService
from xrm.core.security.access import Access, AccessDenied
from xrm.core.tables import audit, outbox
from xrm.core.transfer import ImportOptions, RowError, TabularFile, import_file


def errors(report) -> list[tuple[int, str | None, str]]:
    return [(e.row, e.field, e.message) for e in report.errors]


# -- values -----------------------------------------------------------------------------------


def test_cells_are_read_by_the_field_types_lenient_coercion(crm):
    acme = crm.create("crm.account", name="Acme")
    vip = crm.create("crm.tag", name="vip")
    new = crm.create("crm.tag", name="new")
    report = crm.import_(
        csv_text(
            "name,age,score,rating,active,born,seen_at,status,channels,budget,account,tags,about,prefs",
            f"Ann, 42 ,1.5,12.5,yes,1990-01-02,2026-03-01 09:30,Paying customer,email; phone,"
            f'10 EUR,{acme},{vip}; {new},crm.account:{acme},"{{""a"": 1}}"',
        )
    )
    assert report.ok and report.created == 1 and report.written
    ann = crm.all("crm.contact")[0]
    assert ann["age"] == 42 and ann["score"] == 1.5 and ann["rating"] == "12.50"
    assert ann["active"] is True and ann["born"] == "1990-01-02"
    assert ann["seen_at"] == "2026-03-01T09:30:00Z"
    assert ann["status"] == "customer" and ann["channels"] == ["email", "phone"]
    assert ann["budget"] == {"amount": "10.00", "currency": "EUR"}
    assert ann["account"] == acme and ann["tags"] == sorted([vip, new])
    assert ann["about"] == {"entity": "crm.account", "id": acme}
    assert ann["prefs"] == {"a": 1}


def test_an_empty_cell_on_a_new_record_is_not_given_so_the_default_applies(crm):
    crm.import_(csv_text("name,status,age", "Ann,,"))
    ann = crm.all("crm.contact")[0]
    assert ann["status"] == "lead" and ann["age"] is None


def test_generated_values_are_made_for_imported_records(crm):
    crm.create("crm.contact", name="Before")
    crm.import_(csv_text("name", "Ann", "Bob"))
    assert [c["number"] for c in crm.all("crm.contact")] == ["C-0001", "C-0002", "C-0003"]


def test_xlsx_date_number_and_boolean_cells_are_imported(crm):
    wb = openpyxl.Workbook()
    wb.active.append(["name", "born", "seen_at", "age", "rating", "active", "notes", "first"])
    wb.active.append(
        ["Ann", dt.date(1990, 1, 2), dt.datetime(2026, 3, 1, 9, 30), 42, 12.5, True, 50667, 7.0]
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    report = crm.import_(buffer.getvalue())
    assert report.ok, report.errors
    ann = crm.all("crm.contact")[0]
    assert ann["born"] == "1990-01-02" and ann["seen_at"] == "2026-03-01T09:30:00Z"
    assert ann["age"] == 42 and ann["rating"] == "12.50" and ann["active"] is True
    assert ann["notes"] == "50667" and ann["first"] == "7"


# -- bad rows, dry run and modes ----------------------------------------------------------------

BAD_FILE = csv_text(
    "Full name,Email,Age",
    "Ann,ann@example.org,30",
    "Bob,not-an-address,31",
    "Cid,cid@example.org,-4",
    "Dan,dan@example.org,40",
    ",eve@example.org,22",
)


def test_a_dry_run_reports_every_bad_row_and_writes_nothing(crm):
    report = crm.import_(BAD_FILE, dry_run=True)
    assert errors(report) == [
        (3, "email", "Email 'not-an-address' is not a valid e-mail address"),
        (4, "age", "Age must be at least 0"),
        (6, "name", "Full name is required"),
    ]
    assert [e.column for e in report.errors] == ["Email", "Age", "Full name"]
    assert (report.rows, report.created, report.skipped) == (5, 2, 3)
    assert not report.written
    assert crm.count("crm.contact") == crm.audit_count() == crm.outbox_count() == 0


def test_all_or_nothing_writes_nothing_when_any_row_is_bad(crm):
    report = crm.import_(BAD_FILE, batch_size=1)
    assert not report.written
    assert [e.row for e in report.errors] == [3, 4, 6]
    assert crm.count("crm.contact") == crm.audit_count() == crm.outbox_count() == 0


def test_all_or_nothing_writes_every_row_of_a_clean_file(crm):
    report = crm.import_(csv_text("name", "Ann", "Bob", "Cid"), batch_size=2)
    assert report.written and report.created == 3
    assert crm.count("crm.contact") == 3


def test_skip_bad_rows_writes_the_good_rows_and_reports_the_bad(crm):
    report = crm.import_(BAD_FILE, mode="skip_bad_rows", batch_size=2)
    assert report.written and (report.created, report.skipped) == (2, 3)
    assert report.bad_rows == [3, 4, 6]
    assert [c["name"] for c in crm.all("crm.contact")] == ["Ann", "Dan"]


def test_blank_rows_are_skipped_and_not_counted(crm):
    report = crm.import_(csv_text("name,age", "Ann,1", "", ",", "Bob,2"))
    assert (report.rows, report.created) == (2, 2)


def test_a_row_with_more_cells_than_the_header_is_bad(crm):
    report = crm.import_(csv_text("name,age", "Ann,1,surplus"), dry_run=True)
    assert errors(report) == [(2, None, "the row has 3 cells but the header only 2")]


@pytest.mark.parametrize("empty_cells", ["null", "keep"])
def test_rows_of_the_headers_width_read_as_shorter_rows_do(crm, empty_cells):
    # Rows of the header's width are read column by column; a row with fewer cells (its
    # trailing empty cells left out, as some writers do) alone. Both give the same values and
    # the same problems.
    rows = [
        ("Ann", " 42 ", "10 EUR", "lead", "Paying customer"),
        ("Bob", "abc", "ten euros", "lead", "   "),
        ("", "7", "", "", ""),
        ("Cy", "", "  ", "nope", "x"),
        ("Di", "151", "EUR 3", "lost", "  spaced  "),
    ]
    header = "name,age,budget,status,notes,prefs"
    full = csv_text(header, *(",".join(r) + "," for r in rows))
    short = csv_text(header, *(",".join(r) for r in rows))
    reports = [crm.import_(text, dry_run=True, empty_cells=empty_cells) for text in (full, short)]
    assert errors(reports[0]) == errors(reports[1])
    assert {(row, field) for row, field, _ in errors(reports[0])} == {
        (3, "budget"),  # the reading refuses the row: its age is not looked at
        (4, "name"),
        (5, "status"),
        (6, "age"),
    }
    assert reports[0].created == reports[1].created == 1
    for text in (full, short):
        assert crm.import_(text, empty_cells=empty_cells, mode="skip_bad_rows").created == 1
    made = crm.all("crm.contact")
    assert [(c["name"], c["age"], c["notes"]) for c in made] == [("Ann", 42, "Paying customer")] * 2


def test_text_that_no_field_type_reads_is_a_bad_row_naming_the_field(crm):
    report = crm.import_(csv_text("name,budget,about", "Ann,ten euros,crm.account"), dry_run=True)
    assert errors(report) == [
        (2, "budget", "Budget 'ten euros' is not an amount such as 12.50 EUR"),
        (2, "about", "About 'crm.account' is not a record such as crm.account:42"),
    ]


def test_an_amount_needs_a_currency_unless_the_field_has_a_default_one(crm):
    report = crm.import_(csv_text("name,budget", "Ann,12.5", "Bob,EUR 3"), dry_run=True)
    assert errors(report) == [(2, "budget", "Budget '12.5' has no currency; write it as 12.5 EUR")]


def test_a_reference_to_a_missing_record_is_a_bad_row(crm):
    acme = crm.create("crm.account", name="Acme")
    report = crm.import_(csv_text("name,account", f"Ann,{acme}", "Bob,999"), dry_run=True)
    assert errors(report) == [(3, "account", "Account: crm.account 999 does not exist")]


# -- upsert --------------------------------------------------------------------------------------


def test_upsert_by_a_key_updates_the_matching_record_and_creates_the_others(crm):
    ann = crm.create("crm.contact", name="Ann", email="ann@example.org", age=30)
    report = crm.import_(
        csv_text("email,name,age", "ann@example.org,Ann,31", "bob@example.org,Bob,40"),
        key=("email",),
    )
    assert (report.created, report.updated) == (1, 1)
    assert crm.get("crm.contact", ann)["age"] == 31
    assert crm.count("crm.contact") == 2


def test_upsert_by_a_key_of_several_fields(crm):
    ann = crm.create("crm.contact", name="Ann A", first="Ann", last="A")
    report = crm.import_(
        csv_text("first,last,name", "Ann,A,Ann Updated", "Ann,B,Ann Other"), key=("first", "last")
    )
    assert (report.created, report.updated) == (1, 1)
    assert crm.get("crm.contact", ann)["name"] == "Ann Updated"


def test_upsert_by_id_updates_by_id_and_creates_rows_without_one(crm):
    ann = crm.create("crm.contact", name="Ann")
    report = crm.import_(
        csv_text("id,name", f"{ann},Anna", ",Bob", "999999,Ghost"),
        key=("id",),
        mode="skip_bad_rows",
    )
    assert (report.created, report.updated) == (1, 1)
    assert errors(report) == [(4, "id", "crm.contact 999999 does not exist")]
    assert crm.get("crm.contact", ann)["name"] == "Anna"


def test_an_empty_key_cell_is_a_bad_row(crm):
    report = crm.import_(csv_text("email,name", ",Ann"), key=("email",), dry_run=True)
    assert errors(report) == [(2, "email", "Email is empty; it is the key")]


def test_a_key_repeated_in_the_file_is_a_bad_row_naming_the_first(crm):
    report = crm.import_(
        csv_text("email,name", "a@example.org,Ann", "b@example.org,Bob", "a@example.org,Ann 2"),
        key=("email",),
        dry_run=True,
    )
    assert errors(report) == [(4, "email", "row 2 has the same Email")]


def test_a_read_only_key_finds_records_but_cannot_make_new_ones(crm):
    ann = crm.create("crm.contact", name="Ann")
    number = crm.get("crm.contact", ann)["number"]
    report = crm.import_(
        csv_text("Number,name", f"{number},Anna", "C-9999,Ghost"), key=("number",), dry_run=True
    )
    assert report.updated == 1
    assert errors(report) == [
        (
            3,
            "number",
            "no crm.contact has this Number; it is read-only, so no record can be created with it",
        )
    ]


def test_a_row_equal_to_its_record_leaves_it_unchanged(crm):
    ann = crm.create("crm.contact", name="Ann", email="ann@example.org", age=30, rating="2.5")
    before = crm.get("crm.contact", ann)
    audited = crm.audit_count()
    report = crm.import_(
        csv_text("email,name,age,rating", "ann@example.org,Ann,30,2.50"), key=("email",)
    )
    assert (report.unchanged, report.updated) == (1, 0)
    assert crm.get("crm.contact", ann) == before
    assert crm.audit_count() == audited


def test_only_the_changed_fields_are_written(crm):
    ann = crm.create("crm.contact", name="Ann", email="ann@example.org", age=30)
    crm.import_(csv_text("email,name,age", "ann@example.org,Ann,31"), key=("email",))
    with crm.engine.connect() as conn:
        changes = conn.execute(
            sa.select(audit.c.changes).where(audit.c.record_id == ann, audit.c.action == "update")
        ).scalar_one()
    assert json.loads(changes) == {"age": [30, 31]}


def test_an_empty_cell_clears_the_field_of_an_existing_record(crm):
    ann = crm.create("crm.contact", name="Ann", email="ann@example.org", age=30)
    crm.import_(csv_text("email,age", "ann@example.org,"), key=("email",))
    assert crm.get("crm.contact", ann)["age"] is None


def test_with_empty_cells_kept_an_empty_cell_leaves_the_field_alone(crm):
    ann = crm.create("crm.contact", name="Ann", email="ann@example.org", age=30)
    report = crm.import_(
        csv_text("email,name,age", "ann@example.org,Anna,"), key=("email",), empty_cells="keep"
    )
    assert report.updated == 1
    assert crm.get("crm.contact", ann)["age"] == 30


def test_clearing_a_required_field_is_a_bad_row(crm):
    crm.create("crm.contact", name="Ann", email="ann@example.org")
    report = crm.import_(csv_text("email,name", "ann@example.org,"), key=("email",), dry_run=True)
    assert errors(report) == [(2, "name", "Full name is required")]


# -- uniqueness -----------------------------------------------------------------------------------


def test_a_unique_value_of_another_record_is_a_bad_row(crm):
    other = crm.create("crm.contact", name="Ann", email="ann@example.org")
    report = crm.import_(csv_text("name,email", "Bob,ann@example.org"), dry_run=True)
    assert errors(report) == [(2, "email", f"crm.contact {other} already has the same Email")]


def test_a_unique_value_given_twice_in_the_file_is_a_bad_row(crm):
    report = crm.import_(
        csv_text("name,first,last", "Ann,Ann,A", "Bob,Bob,B", "Ann 2,Ann,A"),
        batch_size=2,
        mode="skip_bad_rows",
    )
    assert errors(report) == [
        (4, "first", "row 2 has the same First, Last"),
        (4, "last", "row 2 has the same First, Last"),
    ]
    assert report.created == 2


def test_a_unique_value_held_in_the_recycle_bin_says_so(crm):
    gone = crm.create("crm.contact", name="Ann", email="ann@example.org")
    with crm.engine.begin() as conn:
        crm.service.delete(conn, SYSTEM, "crm.contact", gone)
    report = crm.import_(csv_text("name,email", "Ann,ann@example.org"), dry_run=True)
    assert errors(report) == [
        (
            2,
            "email",
            f"crm.contact {gone} (in the recycle bin: restore or purge it) already has the same Email",
        )
    ]


# -- what is written besides the records -----------------------------------------------------------


def test_each_created_record_gets_the_audit_entry_and_outbox_message_the_service_writes(crm):
    direct = crm.create("crm.contact", name="Ann", age=30, channels=["email"])
    crm.import_(csv_text("name,age,channels", "Ann,30,email"))
    imported = direct + 1
    with crm.engine.connect() as conn:
        entries = {r.record_id: r for r in conn.execute(sa.select(audit))}
        messages = {r.record_id: r for r in conn.execute(sa.select(outbox))}
    # Alike but for what differs between two records: id, number, timestamps.
    differ = ("id", "number", "created_at", "updated_at")

    def alike(changes: dict) -> dict:
        return {k: v for k, v in changes.items() if k not in differ}

    assert entries[imported].action == entries[direct].action == "create"
    assert alike(json.loads(entries[imported].changes)) == alike(
        json.loads(entries[direct].changes)
    )
    mine, theirs = messages[imported], messages[direct]
    assert mine.topic == theirs.topic == "record.created"
    assert mine.idempotency_key == f"crm.contact:{imported}:create:1"
    assert theirs.idempotency_key == f"crm.contact:{direct}:create:1"
    mine, theirs = read_payload(mine.payload), read_payload(theirs.payload)
    assert list(mine) == list(theirs) == ["entity", "id", "action", "record", "changes", "actor"]
    assert alike(mine["record"]) == alike(theirs["record"])
    assert alike(mine["changes"]) == alike(theirs["changes"])
    assert list(mine["record"]) == list(theirs["record"])


def test_the_import_rolls_back_only_its_own_writes(crm):
    with crm.engine.begin() as conn:
        kept = crm.service.create(conn, SYSTEM, "crm.contact", {"name": "Kept"})["id"]
        report = import_file(crm.service, conn, SYSTEM, "crm.contact", BAD_FILE.encode())
        assert not report.written
    assert [c["id"] for c in crm.all("crm.contact")] == [kept]


def test_rows_are_read_and_written_batch_by_batch(registry):
    """At most two batches are in memory: the one being written and the next being read."""
    read = []

    def numbered_rows():
        for n in range(2, 2002):
            read.append(n)
            yield n, [f"Person {n}"]

    class Probe:
        seen: list[int] = []

        @hookimpl
        def xrm_after_create(self, event):
            self.seen.append(len(read))

    probe = Probe()
    crm = hooked_crm(registry, probe)
    report = crm.import_(TabularFile("csv", ["name"], numbered_rows()), batch_size=100)
    assert report.created == 2000
    # When the first record is written, only the first batch has been read.
    assert probe.seen[0] <= 100
    assert max(s - i for i, s in enumerate(probe.seen)) <= 101


def hooked_crm(registry, plugin, access: Access | None = None) -> Crm:
    """The CRM with ``plugin`` registered (and ``access`` for its actor, when given)."""
    registry.apply_documents([ACCOUNT, TAG, CONTACT])
    hooks = create_plugin_manager(discover=False, extra={"probe": plugin}).hook
    if access is None:
        return Crm(registry, RecordService(registry, hooks=hooks))
    return Crm(registry, FixedAccess(registry, access, hooks=hooks))


# -- plugins -----------------------------------------------------------------------------------


def test_a_plugin_veto_makes_its_row_bad_and_the_others_are_written(registry):
    class NoBobs:
        @hookimpl
        def xrm_before_create(self, event):
            if event.values.get("name") == "Bob":
                raise RecordVetoed("no Bobs here", field="name")

    crm = hooked_crm(registry, NoBobs())
    report = crm.import_(csv_text("name", "Ann", "Bob", "Cid"), mode="skip_bad_rows")
    assert errors(report) == [(3, "name", "no Bobs here")]
    assert [c["name"] for c in crm.all("crm.contact")] == ["Ann", "Cid"]


def test_a_failing_after_hook_fails_only_its_row(registry):
    class Fragile:
        @hookimpl
        def xrm_after_create(self, event):
            if event.after["name"] == "Bob":
                raise RecordVetoed("Bob broke the after hook")

    crm = hooked_crm(registry, Fragile())
    report = crm.import_(csv_text("name", "Ann", "Bob", "Cid"), mode="skip_bad_rows")
    assert errors(report) == [(3, None, "Bob broke the after hook")]
    assert [c["name"] for c in crm.all("crm.contact")] == ["Ann", "Cid"]
    assert crm.outbox_count() == 2


def test_a_before_hook_may_change_the_values_written(registry):
    class Shout:
        @hookimpl
        def xrm_before_create(self, event):
            event.values["name"] = event.values["name"].upper()

    crm = hooked_crm(registry, Shout())
    crm.import_(csv_text("name", "Ann"))
    assert crm.all("crm.contact")[0]["name"] == "ANN"


# -- permissions ---------------------------------------------------------------------------------

REP = Actor(user_id=7, username="rep", roles=("Rep",))


def rep_access(**kw) -> Access:
    grants = kw.pop("grants", {("crm.contact", a) for a in ("read", "create", "update")})
    return Access(actor=REP, grants=frozenset(grants), **kw)


def test_an_actor_who_may_neither_create_nor_update_cannot_import(registry):
    crm = hooked_crm(registry, object(), rep_access(grants=set()))
    with pytest.raises(AccessDenied, match=r"rep may not import crm\.contact records"):
        crm.import_(csv_text("name", "Ann"), actor=REP)


def test_rows_that_would_create_are_bad_for_an_actor_who_may_only_update(registry):
    crm = hooked_crm(registry, object(), rep_access(grants={("crm.contact", "update")}))
    ann = crm.create("crm.contact", name="Ann", email="ann@example.org")
    report = crm.import_(
        csv_text("email,name", "ann@example.org,Anna", "bob@example.org,Bob"),
        key=("email",),
        actor=REP,
        mode="skip_bad_rows",
    )
    assert report.updated == 1
    assert errors(report) == [(3, None, "rep may not create crm.contact records")]
    assert crm.get("crm.contact", ann)["name"] == "Anna"


def test_a_field_the_actor_may_only_read_may_be_repeated_but_not_changed(registry):
    access = rep_access(secured={"crm.contact": {"salary": (True, False)}})
    crm = hooked_crm(registry, object(), access)
    crm.create("crm.contact", name="Ann", email="ann@example.org", salary=100)
    crm.create("crm.contact", name="Bob", email="bob@example.org", salary=100)
    report = crm.import_(
        csv_text("email,name,salary", "ann@example.org,Anna,100", "bob@example.org,Bob,200"),
        key=("email",),
        actor=REP,
        dry_run=True,
    )
    assert report.updated == 1
    assert errors(report) == [(3, "salary", "you may not write Salary")]


def test_records_outside_the_actors_scope_are_not_found(registry):
    crm = hooked_crm(registry, object(), rep_access(scopes={"crm.contact": "own"}))
    theirs = crm.create("crm.contact", name="Not mine")
    report = crm.import_(
        csv_text("id,name", f"{theirs},Mine now"), key=("id",), actor=REP, dry_run=True
    )
    assert errors(report) == [(2, "id", f"crm.contact {theirs} does not exist")]


def test_row_errors_serialise_with_a_json_pointer():
    assert RowError(3, "Age must be at least 0", "age", "Age").as_dict() == {
        "row": 3,
        "message": "Age must be at least 0",
        "field": "age",
        "pointer": "/age",
        "column": "Age",
    }


def test_options_refuse_a_batch_size_below_one():
    with pytest.raises(ValueError, match="batch_size"):
        ImportOptions(batch_size=0)


def test_a_record_changed_after_the_batch_was_checked_is_not_overwritten(registry):
    """The import finds the changes against the record as it read it; when the record moves
    on before the write (here a plugin, in real life another user), that row fails."""

    class Meddler:
        @hookimpl
        def xrm_before_update(self, event):
            if event.values.get("name") == "Ann from the file":
                other = event.records.registry.snapshot(event.conn).entity("crm.contact").table
                event.conn.execute(
                    other.update()
                    .where(other.c.email == "bob@example.org")
                    .values(row_version=other.c.row_version + 1)
                )

    crm = hooked_crm(registry, Meddler())
    crm.create("crm.contact", name="Ann", email="ann@example.org")
    crm.create("crm.contact", name="Bob", email="bob@example.org")
    report = crm.import_(
        csv_text("email,name", "ann@example.org,Ann from the file", "bob@example.org,Bob 2"),
        key=("email",),
        mode="skip_bad_rows",
    )
    assert report.updated == 1
    assert [e.row for e in report.errors] == [3]
    assert "changed by someone else" in report.errors[0].message
