"""Which column goes into which field: decided, and refused with every reason, before any row
is read. Pure: compiled definitions, no database."""

from __future__ import annotations

import pytest
from transfer_support import ACCOUNT, CONTACT, TAG

from xrm.core.transfer import ImportMappingError, resolve_columns
from xrm.metadata.compiler import compile_snapshot
from xrm.metadata.validation import check_all


@pytest.fixture(scope="module")
def contact():
    return compile_snapshot(1, check_all([ACCOUNT, TAG, CONTACT], {})).entity("crm.contact")


def problems(exc: pytest.ExceptionInfo) -> list[dict]:
    return exc.value.problems


def test_headers_match_field_names_and_labels_ignoring_case(contact):
    cols = resolve_columns(contact, ["FULL NAME", "EMAIL", "Seen At"], {}, ())
    assert cols.columns == {"FULL NAME": "name", "EMAIL": "email", "Seen At": "seen_at"}


def test_an_explicit_mapping_wins_and_none_ignores_a_column(contact):
    cols = resolve_columns(
        contact, ["Mail", "name", "Remarks"], {"Mail": "email", "name": None}, ()
    )
    assert cols.columns == {"Mail": "email"}
    assert {"column": "name", "reason": "ignored by the mapping"} in cols.ignored


def test_a_column_mapped_to_an_unknown_field_is_refused_naming_the_column(contact):
    with pytest.raises(ImportMappingError) as exc:
        resolve_columns(contact, ["Name", "E-mail"], {"E-mail": "emial"}, ())
    assert problems(exc) == [
        {
            "column": "E-mail",
            "field": "emial",
            "pointer": "/emial",
            "message": "column 'E-mail' is mapped to 'emial', which crm.contact does not have",
        }
    ]


def test_a_mapping_naming_a_column_the_file_lacks_is_refused(contact):
    with pytest.raises(ImportMappingError, match="column 'Mail', which the file does not have"):
        resolve_columns(contact, ["name"], {"Mail": "email"}, ())


def test_columns_that_match_no_field_are_ignored_and_reported(contact):
    cols = resolve_columns(contact, ["name", "Remarks", ""], {}, ())
    assert cols.columns == {"name": "name"}
    assert [i["column"] for i in cols.ignored] == ["Remarks", "#3"]


def test_two_columns_for_one_field_are_refused(contact):
    with pytest.raises(
        ImportMappingError, match="columns 'Seen At' and 'seen_at' both go into seen_at"
    ):
        resolve_columns(contact, ["Seen At", "seen_at"], {}, ())


def test_read_only_and_system_columns_of_an_export_are_ignored(contact):
    cols = resolve_columns(contact, ["Id", "name", "Number", "Created at", "Row version"], {}, ())
    assert cols.columns == {"name": "name"}
    reasons = {i["column"]: i["reason"] for i in cols.ignored}
    assert reasons["Number"] == "number is read-only"
    assert reasons["Created at"] == "created_at is a system column the platform sets"
    assert "key" in reasons["Id"]


def test_a_read_only_field_mapped_explicitly_is_refused(contact):
    with pytest.raises(
        ImportMappingError, match="column 'No' cannot be imported: number is read-only"
    ):
        resolve_columns(contact, ["name", "No"], {"No": "number"}, ())


def test_the_key_must_be_a_unique_key_or_the_id(contact):
    with pytest.raises(ImportMappingError, match=r"age is not a unique key of crm\.contact"):
        resolve_columns(contact, ["name", "age"], {}, ("age",))
    assert resolve_columns(contact, ["Id", "name"], {}, ("id",)).key == ("id",)
    assert resolve_columns(contact, ["email"], {}, ("email",)).key == ("email",)


def test_a_key_of_several_fields_must_be_declared_unique_together(contact):
    cols = resolve_columns(contact, ["last", "first", "name"], {}, ("first", "last"))
    assert dict(cols.key_columns) == {"last": 0, "first": 1}
    with pytest.raises(ImportMappingError, match="first, email is not a unique key"):
        resolve_columns(contact, ["first", "email"], {}, ("first", "email"))


def test_a_key_field_needs_a_column(contact):
    with pytest.raises(ImportMappingError, match="the key field 'email' has no column"):
        resolve_columns(contact, ["name"], {}, ("email",))


def test_a_read_only_key_field_is_used_to_find_records_not_written(contact):
    cols = resolve_columns(contact, ["Number", "name"], {}, ("number",))
    assert cols.key_columns == {"number": 0}
    assert (0, "number") not in cols.fields


def test_a_field_hidden_from_the_importer_cannot_be_imported(contact):
    with pytest.raises(ImportMappingError, match="you may not write field 'salary'"):
        resolve_columns(contact, ["name", "salary"], {}, (), hidden=frozenset({"salary"}))


def test_every_problem_is_reported_at_once(contact):
    with pytest.raises(ImportMappingError) as exc:
        resolve_columns(contact, ["name", "X"], {"X": "nope", "Y": "email"}, ("age",))
    assert len(problems(exc)) == 3


def test_a_label_shared_by_two_fields_must_be_mapped_explicitly():
    doc = {
        "x-xrm": {"name": "crm.lead"},
        "properties": {
            "tel1": {"type": "string", "title": "Phone"},
            "tel2": {"type": "string", "title": "Phone"},
        },
    }
    lead = compile_snapshot(1, check_all([doc], {})).entity("crm.lead")
    with pytest.raises(ImportMappingError, match="matches the labels of tel1 and tel2"):
        resolve_columns(lead, ["Phone"], {}, ())
    assert resolve_columns(lead, ["Phone"], {"Phone": "tel2"}, ()).columns == {"Phone": "tel2"}
