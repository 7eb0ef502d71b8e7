"""Keyset paging and counts: every record exactly once, in order, whatever the NULLs and ties;
cursors that are opaque, tamper-evident and bound to their query; counts that stop at a cap."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import random
import re
from decimal import Decimal

import pytest

from xrm.core.context import SYSTEM
from xrm.core.query import InvalidCursor, InvalidQuery, parse_query, plan_query
from xrm.core.query.fields import QueryContext

NAMES = ["ada", "bob", "cy", "dora", "eve", "finn", "gus", "hal", "ida", "jo", "kai", "lu"]


def make_contacts(crm, n: int, seed: int = 7) -> dict[int, dict]:
    """``n`` contacts with few distinct values (many ties) and NULLs in every sortable field.
    Returns id -> the Python values written, to compute the expected order independently."""
    rng = random.Random(seed)

    def maybe(value, p=0.2):
        return None if rng.random() < p else value

    written: dict[int, dict] = {}
    with crm.engine.begin() as conn:
        for _ in range(n):
            values = {
                "name": maybe(rng.choice(NAMES), 0.1),
                "age": maybe(rng.randint(0, 20)),
                "status": maybe(rng.choice(["lead", "customer", "lost"]), 0.25),
                "born": maybe(dt.date(1990, 1, 1) + dt.timedelta(days=rng.randint(0, 9))),
                "score": maybe(rng.choice([0.5, 1.25, 2.0, 3.75])),
                "rating": maybe(Decimal(rng.choice(["1.00", "2.50", "2.51"]))),
                "active": maybe(rng.choice([True, False])),
                "seen_at": maybe(
                    dt.datetime(2026, 1, 1, 12) + dt.timedelta(microseconds=rng.randint(0, 3) * 500)
                ),
            }
            data = {
                k: (
                    v.isoformat()
                    if isinstance(v, dt.date)
                    else str(v)
                    if isinstance(v, Decimal)
                    else v
                )
                for k, v in values.items()
                if v is not None
            }
            record = crm.service.create(conn, SYSTEM, "crm.contact", data)
            written[record["id"]] = {**values, "id": record["id"]}
    return written


def expected_order(written: dict[int, dict], order: str) -> list[int]:
    """The order as the documentation defines it, computed in Python."""
    terms = []
    for term in [t for t in order.split(",") if t]:
        parts = term.split(".")
        desc = "desc" in parts
        nulls_first = True if "nullsfirst" in parts else False if "nullslast" in parts else desc
        terms.append((parts[0], desc, nulls_first))
    terms.append(("id", False, False))

    def compare(a: dict, b: dict) -> int:
        for name, desc, nulls_first in terms:
            x, y = a[name], b[name]
            if x == y:
                continue
            if x is None:
                return -1 if nulls_first else 1
            if y is None:
                return 1 if nulls_first else -1
            c = (x > y) - (x < y)
            return -c if desc else c
        return 0

    return [r["id"] for r in sorted(written.values(), key=functools.cmp_to_key(compare))]


def page_through(crm, params: dict, limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(10_000):
        page = crm.query(
            "crm.contact", {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        )
        seen.extend(i["id"] for i in page.items)
        assert len(page.items) <= limit
        cursor = page.next_cursor
        if cursor is None:
            return seen
        assert len(page.items) == limit
    raise AssertionError("paging did not end")


ORDERS = [
    "age.asc,name.desc",
    "status.desc.nullslast,age.asc.nullsfirst,born.desc",
    "score.desc.nullsfirst,seen_at.asc,rating.desc.nullslast",
    "active.asc,born.asc.nullsfirst,name.nullsfirst",
    "seen_at.desc,rating",
    "",
]


def test_paging_through_1000_records_returns_each_once_in_order(crm):
    """1,000 contacts, multi-field orders with NULLs and ties, pages of 37: every record
    appears exactly once and in the documented order, which is also the unpaged order."""
    written = make_contacts(crm, 1000)
    for order in ORDERS:
        params = {"order": order, "select": "id"} if order else {"select": "id"}
        seen = page_through(crm, params, 37)
        assert len(seen) == len(set(seen)) == 1000, order
        assert seen == expected_order(written, order), order
        assert seen == crm.ids("crm.contact", {**params, "limit": "1000"}), order


def test_paging_a_filtered_list_keeps_the_filter_on_every_page(crm):
    written = make_contacts(crm, 200, seed=3)
    params = {"order": "status.desc,age.asc.nullsfirst", "status": "not.is.null", "select": "id"}
    kept = {i: v for i, v in written.items() if v["status"] is not None}
    assert page_through(crm, params, 9) == expected_order(kept, params["order"])


def test_a_page_holds_50_records_by_default(crm):
    make_contacts(crm, 51)
    page = crm.query("crm.contact")
    assert len(page.items) == 50
    assert page.next_cursor is not None


def test_the_last_page_has_no_next_cursor(crm):
    make_contacts(crm, 3)
    assert crm.query("crm.contact", {"limit": "3"}).next_cursor is None


def test_a_limit_above_the_maximum_is_refused(crm):
    with pytest.raises(InvalidQuery, match="limit must be at most 1000, not 1001"):
        crm.query("crm.contact", {"limit": "1001"})


def test_the_maximum_limit_is_configurable(crm):
    with pytest.raises(InvalidQuery, match="at most 10"):
        crm.query("crm.contact", {"limit": "11"}, max_limit=10)


def test_limit_zero_returns_no_records_only_the_count(crm):
    make_contacts(crm, 3)
    result = crm.query("crm.contact", {"limit": "0", "count": "exact"})
    assert (result.items, result.next_cursor, result.count) == ([], None, 3)


def test_a_record_deleted_at_the_cursor_does_not_shift_the_next_page(crm):
    make_contacts(crm, 6)
    first = crm.query("crm.contact", {"limit": "3", "order": "age.desc"})
    crm.soft_delete("crm.contact", first.items[-1]["id"])
    rest = crm.query(
        "crm.contact", {"limit": "3", "order": "age.desc", "cursor": first.next_cursor}
    )
    everything = crm.ids("crm.contact", {"order": "age.desc"})
    assert [i["id"] for i in rest.items] == everything[2:]


def test_a_record_created_before_the_cursor_does_not_repeat_a_record(crm):
    make_contacts(crm, 6)
    first = crm.query("crm.contact", {"limit": "3"})
    crm.create("crm.contact", name="late")
    rest = crm.query("crm.contact", {"limit": "10", "cursor": first.next_cursor})
    assert not {i["id"] for i in first.items} & {i["id"] for i in rest.items}


def test_select_and_limit_may_change_between_pages(crm):
    make_contacts(crm, 5)
    first = crm.query("crm.contact", {"limit": "2", "select": "name"})
    rest = crm.query("crm.contact", {"limit": "3", "select": "age", "cursor": first.next_cursor})
    assert len(rest.items) == 3


def test_a_cursor_is_refused_for_another_order(crm):
    make_contacts(crm, 3)
    cursor = crm.query("crm.contact", {"limit": "1", "order": "age"}).next_cursor
    with pytest.raises(InvalidCursor, match="another order or filter"):
        crm.query("crm.contact", {"order": "name", "cursor": cursor})


def test_a_cursor_is_refused_for_another_filter(crm):
    make_contacts(crm, 3)
    cursor = crm.query("crm.contact", {"limit": "1"}).next_cursor
    with pytest.raises(InvalidCursor, match="another order or filter"):
        crm.query("crm.contact", {"age": "gt.1", "cursor": cursor})


def test_a_cursor_is_refused_for_another_entity(crm):
    crm.create("crm.tag", name="a")
    crm.create("crm.tag", name="b")
    cursor = crm.query("crm.tag", {"limit": "1"}).next_cursor
    with pytest.raises(InvalidCursor):
        crm.query("crm.account", {"cursor": cursor})


def test_a_cursor_altered_by_the_client_is_refused(crm):
    make_contacts(crm, 3)
    cursor = crm.query("crm.contact", {"limit": "1"}).next_cursor
    body, signature = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["v"][-1] += 1
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidCursor, match="damaged or was altered") as caught:
        crm.query("crm.contact", {"cursor": f"{forged}.{signature}"})
    assert caught.value.status == 400


@pytest.mark.parametrize("cursor", ["x", "a.b", "...", "é.é", "eyJ2IjpbXX0.AAAA"])
def test_a_cursor_that_is_not_one_is_refused(crm, cursor):
    with pytest.raises(InvalidCursor):
        crm.query("crm.contact", {"cursor": cursor})


def test_a_cursor_signed_with_another_secret_is_refused(crm):
    make_contacts(crm, 3)
    cursor = crm.query("crm.contact", {"limit": "1"}, cursor_secret=b"one").next_cursor
    assert crm.query("crm.contact", {"cursor": cursor}, cursor_secret=b"one").items
    with pytest.raises(InvalidCursor):
        crm.query("crm.contact", {"cursor": cursor}, cursor_secret=b"two")


def plan_for(crm, engine, params):
    snapshot = crm.registry.snapshot()
    ctx = QueryContext(snapshot, dialect=engine.dialect.name)
    return plan_query(snapshot.entity("crm.contact"), parse_query(params), ctx)


def sql_of(statement, engine) -> str:
    return str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def test_a_later_page_is_found_by_position_not_by_offset(crm, engine):
    plan = plan_for(crm, engine, {"order": "age.desc,name"})
    (statement,) = plan.page_statements([30, "eve", 10_000])
    sql = sql_of(statement, engine)
    assert re.search(r"OFFSET (?!0\b)", sql) is None  # SQLite always writes OFFSET 0
    assert "LIMIT 51" in sql
    assert "age <= 30" in sql  # a range an index scan can start at
    assert "10000" in sql  # the position: after id 10000 among equal age and name


def test_after_a_value_with_nulls_last_the_page_reads_the_value_range_then_the_nulls(crm, engine):
    plan = plan_for(crm, engine, {"order": "age,name"})
    values, nulls = plan.page_statements([30, "eve", 10_000])
    assert "age >= 30" in sql_of(values, engine)
    assert "age IS NULL" in sql_of(nulls, engine)


def test_count_exact_counts_every_matching_record_not_the_page(crm):
    written = make_contacts(crm, 30)
    first = crm.query("crm.contact", {"count": "exact", "limit": "5", "age": "is.not_null"})
    expected = sum(1 for v in written.values() if v["age"] is not None)
    assert first.count == expected
    assert first.count_label == str(expected)
    second = crm.query(
        "crm.contact",
        {"count": "exact", "limit": "5", "age": "is.not_null", "cursor": first.next_cursor},
    )
    assert second.count == expected


def test_a_count_stops_at_the_cap_and_says_so(crm):
    make_contacts(crm, 12)
    result = crm.query("crm.contact", {"count": "exact"}, count_cap=10)
    assert (result.count, result.count_capped, result.count_label) == (10, True, "10+")


def test_a_count_at_the_cap_is_exact(crm):
    make_contacts(crm, 10)
    result = crm.query("crm.contact", {"count": "exact"}, count_cap=10)
    assert (result.count, result.count_capped) == (10, False)


def test_without_count_there_is_no_count(crm):
    assert crm.query("crm.contact").count_label is None
