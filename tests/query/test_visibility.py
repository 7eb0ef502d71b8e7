"""No path leaks a record: soft-deleted rows, permission scopes and hidden fields hold in the
list itself, in filter paths, in expansions, in many-to-many ids and in counts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from xrm.core.query import FieldNotReadable, InvalidQuery


@pytest.fixture
def world(crm):
    paris = crm.create("crm.account", name="Paris Co", city="Paris", secret="s1")
    berlin = crm.create("crm.account", name="Berlin Co", city="Berlin", parent=paris, secret="s2")
    public = crm.create("crm.tag", name="public")
    private = crm.create("crm.tag", name="private")
    ada = crm.create("crm.contact", name="Ada", account=paris, tags=[public, private])
    bob = crm.create("crm.contact", name="Bob", account=berlin, tags=[private])
    return SimpleNamespace(
        paris=paris, berlin=berlin, public=public, private=private, ada=ada, bob=bob
    )


def scopes(crm, **clauses):
    """Scopes by short entity name: scopes(crm, account=lambda t: t.c.city == 'Paris')."""
    return {f"crm.{name}": make(crm.table(f"crm.{name}")) for name, make in clauses.items()}


# -- soft deletion --------------------------------------------------------------------------------


def test_a_soft_deleted_record_is_never_listed(crm, world):
    crm.soft_delete("crm.contact", world.bob)
    assert crm.ids("crm.contact") == [world.ada]


def test_a_soft_deleted_record_is_not_counted(crm, world):
    crm.soft_delete("crm.contact", world.bob)
    assert crm.query("crm.contact", {"count": "exact"}).count == 1


def test_a_soft_deleted_record_is_not_expanded(crm, world):
    crm.soft_delete("crm.account", world.paris)
    items = crm.query("crm.contact", {"select": "name,account(name)", "order": "id"}).items
    assert [i["account"] for i in items] == [None, {"id": world.berlin, "name": "Berlin Co"}]


def test_a_soft_deleted_record_leaves_many_to_many_lists(crm, world):
    crm.soft_delete("crm.tag", world.private)
    items = crm.query("crm.contact", {"select": "tags", "order": "id"}).items
    assert [i["tags"] for i in items] == [[world.public], []]


def test_a_soft_deleted_record_does_not_match_a_filter_path(crm, world):
    crm.soft_delete("crm.account", world.paris)
    assert crm.ids("crm.contact", {"account.city": "eq.Paris"}) == []
    assert crm.ids("crm.account", {"parent.name": "eq.Paris Co"}) == []


# -- scopes ---------------------------------------------------------------------------------------


def test_the_scope_of_the_listed_entity_limits_the_list_and_the_count(crm, world):
    only_ada = scopes(crm, contact=lambda t: t.c.name == "Ada")
    result = crm.query("crm.contact", {"count": "exact"}, scopes=only_ada)
    assert [i["id"] for i in result.items] == [world.ada]
    assert result.count == 1


def test_a_referenced_record_out_of_scope_expands_to_null(crm, world):
    paris_only = scopes(crm, account=lambda t: t.c.city == "Paris")
    items = crm.query(
        "crm.contact", {"select": "account(name)", "order": "id"}, scopes=paris_only
    ).items
    assert [i["account"] for i in items] == [{"id": world.paris, "name": "Paris Co"}, None]


def test_the_scope_applies_at_the_second_level_of_expansion(crm, world):
    berlin_only = scopes(crm, account=lambda t: t.c.city == "Berlin")
    (bob,) = crm.query(
        "crm.contact",
        {"select": "account(name,parent(name))", "name": "eq.Bob"},
        scopes=berlin_only,
    ).items
    assert bob["account"] == {"id": world.berlin, "name": "Berlin Co", "parent": None}


def test_records_out_of_scope_leave_many_to_many_lists_and_expansions(crm, world):
    public_only = scopes(crm, tag=lambda t: t.c.name == "public")
    items = crm.query("crm.contact", {"select": "tags", "order": "id"}, scopes=public_only).items
    assert [i["tags"] for i in items] == [[world.public], []]
    items = crm.query(
        "crm.contact", {"select": "tags(name)", "order": "id"}, scopes=public_only
    ).items
    assert [i["tags"] for i in items] == [[{"id": world.public, "name": "public"}], []]


def test_a_filter_path_cannot_probe_records_out_of_scope(crm, world):
    paris_only = scopes(crm, account=lambda t: t.c.city == "Paris")
    assert crm.ids("crm.contact", {"account.name": "eq.Berlin Co"}, scopes=paris_only) == []
    assert crm.ids("crm.contact", {"account.name": "eq.Paris Co"}, scopes=paris_only) == [world.ada]


def test_cs_and_is_null_on_many_to_many_only_see_records_in_scope(crm, world):
    public_only = scopes(crm, tag=lambda t: t.c.name == "public")
    private = f"cs.{{{world.private}}}"
    assert crm.ids("crm.contact", {"tags": private}, scopes=public_only) == []
    assert crm.ids("crm.contact", {"tags": "is.null"}, scopes=public_only) == [world.bob]


def test_an_entity_scoped_to_false_is_invisible_everywhere(crm, world):
    nothing = scopes(crm, account=lambda t: sa.false())
    items = crm.query("crm.contact", {"select": "account(name)"}, scopes=nothing).items
    assert [i["account"] for i in items] == [None, None]
    assert crm.ids("crm.account", scopes=nothing) == []


# -- hidden fields --------------------------------------------------------------------------------

HIDE_SECRET = {"crm.account": {"secret"}}


def test_a_hidden_field_is_absent_from_records(crm, world):
    (item, *_) = crm.query("crm.account", hidden=HIDE_SECRET).items
    assert "secret" not in item
    assert "name" in item


def test_a_hidden_field_is_absent_from_star_expansions(crm, world):
    (item, *_) = crm.query("crm.contact", {"select": "account(*)"}, hidden=HIDE_SECRET).items
    assert "secret" not in item["account"]


@pytest.mark.parametrize(
    ("entity", "params"),
    [
        ("crm.account", {"select": "name,secret"}),
        ("crm.account", {"secret": "eq.s1"}),
        ("crm.account", {"or": "(name.eq.x,secret.eq.s1)"}),
        ("crm.account", {"order": "secret"}),
        ("crm.account", {"parent.secret": "eq.s1"}),
        ("crm.contact", {"account.secret": "eq.s1"}),
        ("crm.contact", {"select": "account(name,secret)"}),
        ("crm.contact", {"select": "account(parent(secret))"}),
    ],
)
def test_a_hidden_field_is_refused_in_select_filter_sort_and_expansion(crm, world, entity, params):
    with pytest.raises(FieldNotReadable) as caught:
        crm.query(entity, params, hidden=HIDE_SECRET)
    assert caught.value.status == 400
    assert "field 'secret' of crm.account is not readable for you" in str(caught.value)


def test_a_hidden_reference_cannot_be_followed_or_expanded(crm, world):
    hidden = {"crm.contact": {"account"}}
    for params in ({"account.name": "eq.Paris Co"}, {"select": "account(name)"}):
        with pytest.raises(FieldNotReadable):
            crm.query("crm.contact", params, hidden=hidden)
    assert "account" not in crm.query("crm.contact", hidden=hidden).items[0]


def test_the_id_is_always_returned(crm, world):
    (item, *_) = crm.query("crm.account", {"select": "name"}, hidden={"crm.account": {"id"}}).items
    assert list(item) == ["id", "name"]


def test_a_hidden_field_refusal_is_an_invalid_query(crm, world):
    with pytest.raises(InvalidQuery):
        crm.query("crm.account", {"order": "secret"}, hidden=HIDE_SECRET)


def test_a_self_reference_path_applies_the_scope_to_the_referenced_record(crm, world):
    berlin_only = scopes(crm, account=lambda t: t.c.city == "Berlin")
    assert crm.ids("crm.account", {"parent.name": "eq.Paris Co"}) == [world.berlin]
    assert crm.ids("crm.account", {"parent.name": "eq.Paris Co"}, scopes=berlin_only) == []
