"""Cached query plans (xrm.core.query.plans): a plan built for one query runs later queries of
the same shape with their own values, and never with another caller's scope, hidden fields or
an older snapshot. (Every query of the other tests in this folder also runs through a plan
cache and is compared with the plan built anew: see ``Crm.query`` in conftest.py.)"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xrm.core.query import FieldNotReadable, InvalidQuery, run_query
from xrm.core.query.plans import PlanCache


@pytest.fixture
def people(crm):
    ids = {}
    for name, age, city in (("Ada", 36, "Paris"), ("Bob", 17, "Berlin"), ("Eve", 52, "Paris")):
        account = crm.create("crm.account", name=f"{name} Co", city=city)
        ids[name] = crm.create("crm.contact", name=name, age=age, account=account)
    return ids


def run(crm, plans, params, **options):
    with crm.engine.connect() as conn:
        snap = crm.registry.snapshot(conn)
        return run_query(conn, snap, "crm.contact", params, plans=plans, **options)


def names(result):
    return [r["name"] for r in result.items]


def test_a_plan_runs_a_query_of_the_same_shape_with_its_own_values(crm, people):
    plans = PlanCache()
    assert names(run(crm, plans, {"age": "gt.30", "order": "name"})) == ["Ada", "Eve"]
    assert names(run(crm, plans, {"age": "gt.40", "order": "name"})) == ["Eve"]
    assert names(run(crm, plans, {"age": "gt.10", "order": "name"})) == ["Ada", "Bob", "Eve"]
    assert len(plans._plans) == 2  # the shape, and one plan for it


def test_values_of_in_like_and_paths_are_bound_per_query(crm, people):
    plans = PlanCache()
    for city, expected in (("Paris", ["Ada", "Eve"]), ("Berlin", ["Bob"]), ("Rome", [])):
        assert names(run(crm, plans, {"account.city": f"eq.{city}", "order": "name"})) == expected
    for pattern, expected in (("A*", ["Ada"]), ("*e*", ["Eve"]), ("*o*", ["Bob"])):
        assert names(run(crm, plans, {"name": f"like.{pattern}", "order": "name"})) == expected
    for values, expected in (("(Ada,Bob)", ["Ada", "Bob"]), ("(Eve)", ["Eve"])):
        assert names(run(crm, plans, {"name": f"in.{values}", "order": "name"})) == expected


def test_a_bad_value_is_refused_by_a_cached_plan_as_by_a_new_one(crm, people):
    plans = PlanCache()
    run(crm, plans, {"age": "gt.30"})
    with pytest.raises(InvalidQuery) as cached:
        run(crm, plans, {"age": "gt.old"})
    with pytest.raises(InvalidQuery) as fresh:
        run(crm, None, {"age": "gt.old"})
    assert str(cached.value) == str(fresh.value)
    assert cached.value.problems == fresh.value.problems


def test_a_plan_is_not_shared_between_scopes(crm, people):
    plans = PlanCache()
    t = crm.table("crm.contact")
    ada_only = {"crm.contact": t.c.id == people["Ada"]}
    bob_only = {"crm.contact": t.c.id == people["Bob"]}
    assert names(run(crm, plans, {"age": "gt.1"}, scopes=ada_only)) == ["Ada"]
    assert names(run(crm, plans, {"age": "gt.1"}, scopes=bob_only)) == ["Bob"]
    assert names(run(crm, plans, {"age": "gt.1"})) == ["Ada", "Bob", "Eve"]
    assert names(run(crm, plans, {"age": "gt.1"}, scopes={"crm.contact": sa.false()})) == []


def test_a_plan_is_not_shared_between_scopes_of_the_entities_a_path_reaches(crm, people):
    plans = PlanCache()
    accounts = crm.table("crm.account")
    paris = {"crm.account": accounts.c.city == "Paris"}
    assert names(run(crm, plans, {"account.name": "like.*Co", "order": "name"})) == [
        "Ada",
        "Bob",
        "Eve",
    ]
    params = {"account.name": "like.*Co", "order": "name"}
    assert names(run(crm, plans, params, scopes=paris)) == ["Ada", "Eve"]


def test_a_plan_is_not_shared_between_callers_with_other_hidden_fields(crm, people):
    plans = PlanCache()
    assert "age" in run(crm, plans, {"name": "eq.Ada"}).items[0]
    hidden = {"crm.contact": {"age"}}
    assert "age" not in run(crm, plans, {"name": "eq.Ada"}, hidden=hidden).items[0]
    with pytest.raises(FieldNotReadable):
        run(crm, plans, {"age": "gt.1"}, hidden=hidden)


def test_a_value_whose_sql_differs_is_kept_in_the_key(crm, people):
    plans = PlanCache()
    crm.create("crm.contact", name="Nobody")
    assert names(run(crm, plans, {"age": "is.null"})) == ["Nobody"]
    assert names(run(crm, plans, {"age": "not.is.null", "order": "name"})) == ["Ada", "Bob", "Eve"]
    assert len(names(run(crm, plans, {"age": "is.not_null"}))) == 3
    assert names(run(crm, plans, {"age": "is.null"})) == ["Nobody"]


def test_cursors_run_through_the_cached_plan(crm, people):
    plans = PlanCache()
    first = run(crm, plans, {"order": "age.desc", "limit": "2"})
    assert names(first) == ["Eve", "Ada"]
    rest = run(crm, plans, {"order": "age.desc", "limit": "2", "cursor": first.next_cursor})
    assert names(rest) == ["Bob"] and rest.next_cursor is None
    assert run(crm, plans, {"order": "age.desc", "limit": "2", "count": "exact"}).count == 3


def test_a_new_snapshot_starts_the_cache_over(crm, people):
    plans = PlanCache()
    assert "nickname" not in run(crm, plans, {"name": "eq.Ada"}).items[0]
    contact = crm.registry.snapshot().entity("crm.contact").definition.document
    document = {
        **contact,
        "properties": {**contact["properties"], "nickname": {"type": "string"}},
    }
    crm.registry.apply(crm.registry.plan([document]))
    assert run(crm, plans, {"name": "eq.Ada"}).items[0]["nickname"] is None
