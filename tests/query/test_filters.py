"""Every filter operator on a real database, with the same results on SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from xrm.core.query import InvalidQuery


@pytest.fixture
def people(crm):
    """Two accounts (Globex's parent is Acme), two tags, three contacts; Cy has no values."""
    acme = crm.create("crm.account", name="Acme Corp", city="Paris", tier="gold")
    globex = crm.create("crm.account", name="Globex", city="Berlin", parent=acme)
    vip = crm.create("crm.tag", name="vip")
    new = crm.create("crm.tag", name="new")
    ada = crm.create(
        "crm.contact",
        name="Ada",
        email="ada@acme.com",
        age=36,
        score=9.5,
        rating="4.50",
        active=True,
        born="1990-12-10",
        seen_at="2026-03-01T08:00:00Z",
        status="customer",
        channels=["email", "phone"],
        account=acme,
        tags=[vip],
        budget={"amount": "100", "currency": "EUR"},
        prefs={"x": 1},
        notes="Likes tea",
        about={"entity": "crm.account", "id": globex},
        key="0b7e7c1e-4c1f-4b8e-9a57-6a0f2f7f0c11",
    )
    bob = crm.create(
        "crm.contact",
        name="Bob",
        email="bob@globex.com",
        age=17,
        score=3.0,
        rating="1.25",
        active=False,
        born="2008-05-01",
        seen_at="2025-12-31T23:00:00Z",
        status="lead",
        channels=["mail"],
        account=globex,
        tags=[vip, new],
        budget={"amount": "5.50", "currency": "USD"},
        notes="likes coffee * 2",
    )
    cy = crm.create("crm.contact", name="Cy_1")
    return SimpleNamespace(acme=acme, globex=globex, vip=vip, new=new, ada=ada, bob=bob, cy=cy)


def ids(crm, params) -> set[int]:
    return set(crm.ids("crm.contact", params))


def test_eq_matches_a_value_exactly(crm, people):
    assert ids(crm, {"name": "eq.Ada"}) == {people.ada}
    assert ids(crm, {"name": "eq.ada"}) == set()


def test_neq_matches_other_values_but_not_null(crm, people):
    assert ids(crm, {"status": "neq.lead"}) == {people.ada}


def test_gt_gte_lt_lte_compare_numbers(crm, people):
    assert ids(crm, {"age": "gt.17"}) == {people.ada}
    assert ids(crm, {"age": "gte.17"}) == {people.ada, people.bob}
    assert ids(crm, {"age": "lt.36"}) == {people.bob}
    assert ids(crm, {"age": "lte.36"}) == {people.ada, people.bob}


def test_values_are_converted_by_the_field_type(crm, people):
    assert ids(crm, {"seen_at": "gte.2026-01-01"}) == {people.ada}
    assert ids(crm, {"born": "lt.2000-01-01"}) == {people.ada}
    assert ids(crm, {"rating": "gte.4.5"}) == {people.ada}
    assert ids(crm, {"score": "lt.5"}) == {people.bob}
    assert ids(crm, {"active": "eq.true"}) == {people.ada}
    assert ids(crm, {"key": "eq.0B7E7C1E-4C1F-4B8E-9A57-6A0F2F7F0C11"}) == {people.ada}


def test_a_datetime_with_an_offset_is_compared_in_utc(crm, people):
    assert ids(crm, {"seen_at": "gte.2026-01-01T00:30:00+02:00"}) == {people.ada, people.bob}


def test_a_filter_is_not_bound_by_the_fields_validation_range(crm, people):
    assert ids(crm, {"age": "lt.200"}) == {people.ada, people.bob}


def test_a_money_filter_compares_the_amount_and_the_currency_when_given(crm, people):
    assert ids(crm, {"budget": "gt.10"}) == {people.ada}
    assert ids(crm, {"budget": "lt.1000 USD"}) == {people.bob}
    assert ids(crm, {"budget": "eq.EUR 100"}) == {people.ada}


def test_a_repeated_filter_must_hold_every_time(crm, people):
    assert set(crm.ids("crm.contact", [("age", "gt.10"), ("age", "lt.20")])) == {people.bob}


def test_in_matches_any_listed_value(crm, people):
    assert ids(crm, {"status": "in.(lead,customer)"}) == {people.ada, people.bob}
    assert ids(crm, {"id": f"in.({people.ada},{people.cy})"}) == {people.ada, people.cy}


def test_an_empty_in_list_matches_nothing(crm, people):
    assert ids(crm, {"id": "in.()"}) == set()


def test_like_is_case_sensitive_with_star_as_wildcard(crm, people):
    assert ids(crm, {"notes": "like.Likes*"}) == {people.ada}
    assert ids(crm, {"email": "like.*@globex.com"}) == {people.bob}


def test_like_underscore_matches_one_character_and_backslash_escapes(crm, people):
    assert ids(crm, {"name": "like.B_b"}) == {people.bob}
    assert ids(crm, {"name": "like.Cy\\_*"}) == {people.cy}
    assert ids(crm, {"notes": "like.*\\* 2"}) == {people.bob}
    assert ids(crm, {"name": "like.Cy\\_"}) == set()


def test_ilike_ignores_case(crm, people):
    assert ids(crm, {"notes": "ilike.likes*"}) == {people.ada, people.bob}
    assert ids(crm, {"name": "ilike.ADA"}) == {people.ada}


def test_ilike_ignores_case_beyond_ascii_on_both_databases(crm, people):
    muller = crm.create("crm.contact", name="MÜLLER Ærø")
    assert ids(crm, {"name": "ilike.*müller æ*"}) == {muller}
    assert ids(crm, {"name": "like.*müller*"}) == set()


def test_is_null_and_is_not_null(crm, people):
    assert ids(crm, {"email": "is.null"}) == {people.cy}
    assert ids(crm, {"email": "is.not_null"}) == {people.ada, people.bob}
    assert ids(crm, {"budget": "is.null"}) == {people.cy}
    assert ids(crm, {"about": "is.not_null"}) == {people.ada}


def test_is_true_and_is_false_on_a_yes_no_field(crm, people):
    assert ids(crm, {"active": "is.true"}) == {people.ada}
    assert ids(crm, {"active": "is.false"}) == {people.bob}
    assert ids(crm, {"active": "not.is.true"}) == {people.bob, people.cy}


def test_is_null_on_a_choice_list_also_matches_an_empty_list(crm, people):
    empty = crm.create("crm.contact", name="Di", channels=[])
    assert ids(crm, {"channels": "is.null"}) == {people.cy, empty}
    assert ids(crm, {"channels": "is.not_null"}) == {people.ada, people.bob}


def test_is_null_on_a_json_field(crm, people):
    assert ids(crm, {"prefs": "is.null"}) == {people.bob, people.cy}


def test_cs_on_a_choice_list_needs_every_value(crm, people):
    assert ids(crm, {"channels": "cs.{email}"}) == {people.ada}
    assert ids(crm, {"channels": "cs.{phone,email}"}) == {people.ada}
    assert ids(crm, {"channels": "cs.{email,mail}"}) == set()


def test_cs_on_a_many_to_many_field_needs_every_record(crm, people):
    assert ids(crm, {"tags": f"cs.{{{people.vip}}}"}) == {people.ada, people.bob}
    assert ids(crm, {"tags": f"cs.{{{people.vip},{people.new}}}"}) == {people.bob}


def test_is_null_on_a_many_to_many_field_means_no_link(crm, people):
    assert ids(crm, {"tags": "is.null"}) == {people.cy}
    assert ids(crm, {"tags": "is.not_null"}) == {people.ada, people.bob}


def test_a_reference_compares_record_ids(crm, people):
    assert ids(crm, {"account": f"eq.{people.acme}"}) == {people.ada}
    assert ids(crm, {"account": "is.null"}) == {people.cy}


def test_a_reference_to_any_entity_is_written_entity_colon_id(crm, people):
    assert ids(crm, {"about": f"eq.crm.account:{people.globex}"}) == {people.ada}


def test_not_negates_any_operator(crm, people):
    assert ids(crm, {"status": "not.eq.lead"}) == {people.ada}
    assert ids(crm, {"status": "not.in.(lead)"}) == {people.ada}
    assert ids(crm, {"email": "not.is.null"}) == {people.ada, people.bob}
    assert ids(crm, {"channels": "not.cs.{email}"}) == {people.bob, people.cy}


def test_or_matches_either_condition(crm, people):
    assert ids(crm, {"or": "(age.lt.18,status.eq.customer)"}) == {people.ada, people.bob}


def test_groups_nest_and_negate(crm, people):
    params = {"or": "(name.eq.Cy_1,and(age.gt.10,not.or(status.eq.lead,active.is.false)))"}
    assert ids(crm, params) == {people.ada, people.cy}
    assert ids(crm, {"not.and": "(age.gt.10,status.eq.lead)"}) == {people.ada}


def test_a_group_and_plain_filters_all_hold(crm, people):
    assert ids(crm, {"or": "(age.lt.18,age.gt.30)", "status": "eq.lead"}) == {people.bob}


def test_a_filter_may_test_a_field_of_the_referenced_record(crm, people):
    assert ids(crm, {"account.name": "ilike.*acme*"}) == {people.ada}
    assert ids(crm, {"account.city": "in.(Paris,Berlin)"}) == {people.ada, people.bob}


def test_a_filter_path_may_follow_two_references(crm, people):
    assert ids(crm, {"account.parent.name": "eq.Acme Corp"}) == {people.bob}


def test_a_filter_path_may_go_through_a_many_to_many_field(crm, people):
    assert ids(crm, {"tags.name": "eq.new"}) == {people.bob}


def test_not_on_a_path_negates_the_test_on_the_referenced_record(crm, people):
    assert ids(crm, {"account.name": "not.eq.Acme Corp"}) == {people.bob}


def test_a_path_condition_may_sit_inside_a_group(crm, people):
    assert ids(crm, {"or": "(account.tier.eq.gold,tags.name.eq.new)"}) == {people.ada, people.bob}


def test_a_self_reference_path_filters_on_the_parent_record(crm, people):
    assert set(crm.ids("crm.account", {"parent.name": "eq.Acme Corp"})) == {people.globex}


def test_system_fields_can_be_filtered(crm, people):
    assert ids(crm, {"created_at": "gte.2000-01-01", "id": f"gt.{people.ada}"}) == {
        people.bob,
        people.cy,
    }


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"age": "gt.abc"}, "Age 'abc' is not a whole number"),
        ({"status": "eq.won"}, "'won' is not one of lead, customer, lost"),
        ({"born": "lt.yesterday"}, "is not a date"),
        ({"name": "gt.A"}, "gt is not allowed on crm.contact.name (text); use one of eq, neq"),
        ({"age": "like.1*"}, "like is not allowed on crm.contact.age"),
        ({"channels": "eq.email"}, "use one of cs, is"),
        ({"channels": "cs.{}"}, "cs needs at least one value"),
        ({"channels": "cs.{fax}"}, "'fax' is not one of email, phone, mail"),
        ({"tags": "cs.{x}"}, "expected a record id"),
        ({"name": "is.true"}, "is.true applies to yes/no fields only"),
        ({"nickname": "eq.x"}, "crm.contact has no field 'nickname'"),
        ({"name.first": "eq.x"}, "name is not a reference, so name.first cannot be followed"),
        ({"account.nope": "eq.x"}, "crm.account has no field 'nope'"),
        ({"row_version": "eq.1"}, "crm.contact.row_version cannot be filtered on"),
        ({"about": "eq.42"}, "expected <entity>:<id>"),
        ({"budget": "gt.lots"}, "'lots' is not an amount such as 10"),
        ({"or": "(age.gt.x)"}, "Age 'x' is not a whole number"),
    ],
)
def test_a_filter_that_does_not_fit_the_field_is_a_400(crm, people, params, fragment):
    with pytest.raises(InvalidQuery) as caught:
        crm.query("crm.contact", params)
    assert caught.value.status == 400
    assert fragment in str(caught.value)


def test_a_value_error_names_parameter_field_operator_and_value(crm, people):
    with pytest.raises(InvalidQuery) as caught:
        crm.query("crm.contact", {"age": "gt.abc"})
    err = caught.value
    assert (err.parameter, err.field, err.operator, err.value) == ("age", "age", "gt", "abc")
    assert str(err) == "age: Age 'abc' is not a whole number"
