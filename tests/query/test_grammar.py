"""The query grammar (PostgREST style), parsed without a database: what each form means and
how a malformed one is reported."""

from __future__ import annotations

import pytest

from xrm.core.query import Condition, Group, InvalidQuery, SelectItem, SortTerm, parse_query


def only_condition(params) -> Condition:
    (item,) = parse_query(params).filter.items
    assert isinstance(item, Condition)
    return item


def test_a_filter_is_field_equals_operator_dot_value():
    assert only_condition({"name": "eq.Acme"}) == Condition(("name",), "eq", "Acme", False, "name")


def test_the_value_is_everything_after_the_operator_dots_included():
    assert only_condition({"rating": "gte.4.5"}).value == "4.5"


def test_not_negates_the_operator():
    cond = only_condition({"status": "not.eq.lead"})
    assert (cond.op, cond.value, cond.negated) == ("eq", "lead", True)


def test_cs_is_the_contains_operator():
    cond = only_condition({"channels": "cs.{email,phone}"})
    assert (cond.op, cond.value) == ("contains", ("email", "phone"))


def test_in_takes_a_list_whose_items_may_be_quoted():
    cond = only_condition({"name": 'in.(Acme, "Smith, John", "say \\"hi\\"")'})
    assert cond.value == ("Acme", "Smith, John", 'say "hi"')


def test_an_empty_in_list_is_an_empty_tuple():
    assert only_condition({"id": "in.()"}).value == ()


def test_is_takes_null_not_null_true_and_false():
    for word in ("null", "not_null", "true", "false"):
        assert only_condition({"email": f"is.{word}"}).value == word


def test_a_dotted_field_is_a_path_through_references():
    cond = only_condition({"account.parent.name": "ilike.*acme*"})
    assert cond.path == ("account", "parent", "name")


def test_a_repeated_filter_parameter_adds_a_condition():
    query = parse_query([("age", "gt.10"), ("age", "lt.20")])
    assert [(c.op, c.value) for c in query.filter.items] == [("gt", "10"), ("lt", "20")]


def test_params_may_be_a_multidict_with_getlist():
    class MultiDict(dict):
        def getlist(self, key):
            return self[key]

    query = parse_query(MultiDict(age=["gt.10", "lt.20"]))
    assert len(query.filter.items) == 2


def test_a_mapping_value_may_be_a_list_of_values():
    assert len(parse_query({"age": ["gt.10", "lt.20"]}).filter.items) == 2


def test_or_groups_nest_and_negate():
    query = parse_query(
        {"or": "(age.lt.18,and(status.eq.customer,not.or(city.eq.Paris,city.eq.Rome)))"}
    )
    (group,) = query.filter.items
    assert group.kind == "or"
    first, nested = group.items
    assert first == Condition(("age",), "lt", "18", False, "or")
    assert isinstance(nested, Group) and nested.kind == "and"
    assert isinstance(nested.items[1], Group)
    assert (nested.items[1].kind, nested.items[1].negated) == ("or", True)


def test_not_or_negates_the_whole_group():
    (group,) = parse_query({"not.or": "(a.eq.1,b.eq.2)"}).filter.items
    assert (group.kind, group.negated) == ("or", True)


def test_a_condition_in_a_group_may_follow_a_path_and_quote_its_value():
    (group,) = parse_query(
        {"and": '(account.name.not.ilike."a, b.c",tags.name.in.(x,y))'}
    ).filter.items
    first, second = group.items
    assert (first.path, first.op, first.value, first.negated) == (
        ("account", "name"),
        "ilike",
        "a, b.c",
        True,
    )
    assert (second.path, second.value) == (("tags", "name"), ("x", "y"))


def test_order_terms_take_a_direction_and_a_null_placement():
    query = parse_query({"order": "name.asc,created_at.desc.nullslast,age"})
    assert query.order == (
        SortTerm("name", False, None),
        SortTerm("created_at", True, False),
        SortTerm("age", False, None),
    )


def test_nulls_sort_as_the_largest_value_unless_placed():
    assert SortTerm("age").nulls_come_first is False
    assert SortTerm("age", descending=True).nulls_come_first is True
    assert SortTerm("age", nulls_first=True).nulls_come_first is True


def test_select_lists_fields_and_nested_expansions():
    query = parse_query({"select": "name,account(name,parent(name)),tags(*)"})
    assert query.select == (
        SelectItem("name"),
        SelectItem("account", (SelectItem("name"), SelectItem("parent", (SelectItem("name"),)))),
        SelectItem("tags", (SelectItem("*"),)),
    )


def test_limit_cursor_and_count_are_read():
    query = parse_query({"limit": "10", "cursor": "abc", "count": "exact"})
    assert (query.limit, query.cursor, query.count) == (10, "abc", True)


@pytest.mark.parametrize(
    ("params", "parameter", "fragment"),
    [
        ({"name": "Acme"}, "name", "expected <operator>.<value>"),
        ({"name": "equals.Acme"}, "name", "unknown operator 'equals'"),
        ({"name": "eq"}, "name", "eq needs a value"),
        ({"Name": "eq.x"}, "Name", "not a field name"),
        ({"a.b.c.d": "eq.x"}, "a.b.c.d", "at most 2 references"),
        ({"id": "in.1,2"}, "id", "in takes a list in ()"),
        ({"tags": "cs.(1,2)"}, "tags", "cs takes a list in {}"),
        ({"email": "is.nothing"}, "email", "is takes null, not_null, true, false"),
        ({"name": 'in.("abc)'}, "name", "unterminated double quote"),
        ({"or": "name.eq.x"}, "or", "expected a list of conditions in ()"),
        ({"or": "()"}, "or", "group is empty"),
        ({"or": "(name.eq.x,(a)"}, "or", "unbalanced"),
        ({"or": "(name=eq.x)"}, "or", "is not a condition"),
        ({"and": "(" + "or(" * 9 + "a.eq.1" + ")" * 10}, "and", "nested at most 8 deep"),
        ({"order": ""}, "order", "order is empty"),
        ({"order": "name.up"}, "order", "is not a sort term"),
        ({"order": "account.name"}, "order", "field of a referenced record"),
        ({"order": "name,name.desc"}, "order", "sorted on twice"),
        ({"select": "name,"}, "select", "is not a field or an expansion"),
        ({"select": "account()"}, "select", "account() lists no field"),
        ({"select": "a(b(c(d)))"}, "select", "at most 2 levels deep"),
        ({"select": "*(name)"}, "select", "* cannot be expanded"),
        ({"select": "name,name"}, "select", "selected twice"),
        ({"limit": "ten"}, "limit", "limit must be a whole number"),
        ({"limit": "-1"}, "limit", "limit must be a whole number"),
        ({"count": "estimated"}, "count", "count takes exact"),
        ({"offset": "100"}, "offset", "offset paging is not supported"),
        ([("order", "name"), ("order", "age")], "order", "more than once"),
    ],
)
def test_a_malformed_query_is_a_400_naming_the_parameter(params, parameter, fragment):
    with pytest.raises(InvalidQuery) as caught:
        parse_query(params)
    err = caught.value
    assert err.status == 400
    assert err.parameter == parameter
    assert fragment in str(err)
    assert str(err).startswith(f"{parameter}: ")


def test_an_error_lists_one_problem_with_parameter_field_operator_and_value():
    with pytest.raises(InvalidQuery) as caught:
        parse_query({"name": "equals.Acme"})
    assert caught.value.problems == [
        {
            "message": "unknown operator 'equals'; use one of eq, neq, gt, gte, lt, lte, in, "
            "like, ilike, is, cs",
            "parameter": "name",
            "field": "name",
            "operator": "equals",
            "value": "equals.Acme",
        }
    ]


def test_a_query_has_at_most_100_conditions():
    with pytest.raises(InvalidQuery, match="at most 100 conditions"):
        parse_query([("age", f"neq.{i}") for i in range(101)])
