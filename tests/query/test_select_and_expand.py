"""select picks fields; expansions embed referenced records, two levels deep, with one query
per relation and level whatever the page size."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from xrm.core.query import InvalidQuery


@contextmanager
def statements(engine):
    """Collect the SQL statements run on ``engine``."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def selects(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def ada(crm):
    parent = crm.create("crm.account", name="Holding", city="Zug")
    acme = crm.create(
        "crm.account",
        name="Acme",
        city="Paris",
        parent=parent,
        revenue={"amount": "12.5", "currency": "EUR"},
    )
    b = crm.create("crm.tag", name="b")
    a = crm.create("crm.tag", name="a")
    crm.create("crm.account", name="Other", tags=[a])
    return crm.create("crm.contact", name="Ada", age=36, account=acme, tags=[b, a])


def only(crm, params, entity="crm.contact"):
    (item,) = crm.query(entity, params).items
    return item


def test_without_select_a_record_has_every_readable_field(crm, ada):
    item = only(crm, {})
    assert list(item)[:3] == ["id", "name", "email"]
    assert {"tags", "budget", "created_at", "updated_at", "owner_id", "row_version"} <= set(item)
    assert "deleted_at" not in item


def test_select_returns_the_listed_fields_in_order_after_the_id(crm, ada):
    assert only(crm, {"select": "age,name"}) == {"id": ada, "age": 36, "name": "Ada"}


def test_select_may_name_system_fields(crm, ada):
    assert set(only(crm, {"select": "created_at,row_version"})) == {
        "id",
        "created_at",
        "row_version",
    }


def test_a_selected_reference_is_the_record_id(crm, ada):
    account = only(crm, {"select": "account"})["account"]
    assert isinstance(account, int)


def test_a_selected_many_to_many_field_is_the_list_of_ids_in_id_order(crm, ada):
    tags = only(crm, {"select": "tags"})["tags"]
    assert tags == sorted(tags) and len(tags) == 2


def test_multi_column_fields_are_returned_whole(crm, ada):
    assert only(crm, {"select": "revenue", "name": "eq.Acme"}, "crm.account")["revenue"] == {
        "amount": "12.50",
        "currency": "EUR",
    }


def test_an_expanded_reference_is_the_referenced_record(crm, ada):
    item = only(crm, {"select": "name,account(name,city)"})
    assert item["account"] == {"id": item["account"]["id"], "name": "Acme", "city": "Paris"}


def test_expansions_go_two_levels_deep(crm, ada):
    item = only(crm, {"select": "account(name,parent(name))"})
    assert item["account"]["parent"]["name"] == "Holding"


def test_an_expanded_many_to_many_field_is_the_list_of_records_in_id_order(crm, ada):
    tags = only(crm, {"select": "tags(name)"})["tags"]
    assert [t["id"] for t in tags] == sorted(t["id"] for t in tags)
    assert {t["name"] for t in tags} == {"a", "b"}


def test_star_selects_every_field_and_combines_with_expansions(crm, ada):
    item = only(crm, {"select": "*,account(name)"})
    assert item["account"] == {"id": item["account"]["id"], "name": "Acme"}
    assert item["age"] == 36


def test_a_missing_reference_expands_to_null(crm, ada):
    crm.create("crm.contact", name="Bob")
    assert only(crm, {"select": "account(name)", "name": "eq.Bob"})["account"] is None


def test_records_referenced_twice_are_fetched_once_and_shared(crm, ada):
    acme = only(crm, {"select": "account"})["account"]
    crm.create("crm.contact", name="Bob", account=acme)
    items = crm.query("crm.contact", {"select": "account(name)"}).items
    assert items[0]["account"] == items[1]["account"]


def test_expansion_costs_one_query_per_relation_and_level_not_per_record(crm, ada):
    """30 contacts, each with its own account, parent and tags: still 4 SELECTs."""
    tag = crm.create("crm.tag", name="t")
    for i in range(30):
        parent = crm.create("crm.account", name=f"p{i}")
        account = crm.create("crm.account", name=f"a{i}", parent=parent, tags=[tag])
        crm.create("crm.contact", name=f"c{i}", account=account, tags=[tag])
    params = {"select": "name,account(name,parent(name),tags(name)),tags(name)", "limit": "100"}
    with statements(crm.engine) as seen:
        result = crm.query_once("crm.contact", params)
    assert len(result.items) == 31
    assert all(i["account"]["parent"] for i in result.items)
    # page, account, account.parent, account.tags, tags (+ the snapshot's version check)
    assert len([s for s in selects(seen) if "xrm_" not in s]) == 5


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"select": "name,nickname"}, "crm.contact has no field 'nickname'"),
        ({"select": "name(first)"}, "crm.contact.name is not a reference and cannot be expanded"),
        ({"select": "about(name)"}, "references to any entity cannot be expanded"),
        ({"select": "account(nope)"}, "crm.account has no field 'nope'"),
        ({"select": "account(parent(parent(name)))"}, "at most 2 levels deep"),
    ],
)
def test_a_select_that_does_not_fit_the_entity_is_a_400(crm, ada, params, fragment):
    with pytest.raises(InvalidQuery) as caught:
        crm.query("crm.contact", params)
    assert fragment in str(caught.value)
