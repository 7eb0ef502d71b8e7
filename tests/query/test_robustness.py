"""Whatever a client sends, the runner answers with records or a 400 InvalidQuery: never a
database error or another exception. Random queries built from the grammar's own pieces (and
hostile text) are run against both databases."""

from __future__ import annotations

import random

import pytest

from xrm.core.query import InvalidQuery

KEYS = [
    "name",
    "age",
    "score",
    "rating",
    "active",
    "born",
    "seen_at",
    "status",
    "channels",
    "account",
    "tags",
    "budget",
    "prefs",
    "notes",
    "about",
    "key",
    "id",
    "created_at",
    "owner_id",
    "row_version",
    "account.name",
    "account.parent.name",
    "tags.name",
    "account.tags.name",
    "account.revenue",
    "nope",
    "Name",
    "a..b",
    "",
    "or",
    "and",
    "not.or",
    "not.and",
    "order",
    "select",
    "limit",
    "cursor",
    "count",
    "offset",
]
OPS = [
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "like",
    "ilike",
    "is",
    "cs",
    "not.eq",
    "not.in",
    "not.is",
    "not.cs",
    "xx",
    "",
]
VALUES = [
    "",
    "1",
    "-1",
    "0",
    "36",
    "99999999999999999999",
    "1e999999",
    "nan",
    "inf",
    "4.5",
    "2026-01-01",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "true",
    "null",
    "not_null",
    "Ada",
    "*",
    "%",
    "_",
    "\\",
    "a\\",
    "'",
    '"',
    '"a,b"',
    "(1,2)",
    "()",
    "{email}",
    "{1,2}",
    "{}",
    "(",
    ")",
    "{",
    "crm.account:1",
    "crm.account:99999999999999999999",
    "10 EUR",
    "EUR",
    "é",
    "\ud800",
    "a\x00b",
    "x" * 300,
    "(" * 20,
    "0b7e7c1e-4c1f-4b8e-9a57",
]
CONTROL = {
    "order": [
        "name",
        "age.desc.nullsfirst",
        "tags",
        "budget",
        "name.asc,name",
        "x.y",
        "",
        "id.desc",
    ],
    "select": [
        "name",
        "*",
        "account(name)",
        "tags(*)",
        "account(parent(name))",
        "account(",
        "x(y)",
        "about(name)",
        "budget,tags",
        "",
    ],
    "limit": ["0", "1", "1000", "1001", "-5", "x", "99999999999"],
    "cursor": ["x", "a.b", "eyJ2IjpbXX0.AAAA", ""],
    "count": ["exact", "planned"],
}


#: Well-formed filters, so that a good share of the random queries reach the database.
SENSIBLE = {
    "name": ["eq.c1", "ilike.*C*", "like.c_", "in.(c0,c2)", "is.null", "not.eq.c0"],
    "age": ["gt.0", "lte.1", "in.(1,2)", "is.not_null", "not.in.(0)"],
    "channels": ["cs.{email}", "is.null", "not.cs.{phone}"],
    "tags": ["cs.{1}", "is.not_null"],
    "budget": ["gt.0", "lt.2 EUR", "is.null"],
    "account.name": ["eq.Acme", "ilike.*ac*", "not.eq.Acme"],
    "tags.name": ["eq.vip", "in.(vip,x)"],
    "created_at": ["gte.2000-01-01", "lt.2100-01-01T00:00:00Z"],
    "order": ["name.desc", "age.asc.nullsfirst,name", "budget", "id.desc"],
    "select": ["name,account(name)", "*,tags(name)", "account(name,parent(name))", "age"],
    "limit": ["1", "2", "50"],
    "count": ["exact"],
    "or": ["(age.eq.1,name.eq.c2)", "(and(age.gt.0,name.like.c*),tags.name.eq.vip)"],
}


def random_value(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "".join(rng.choice(VALUES) for _ in range(rng.randint(1, 3)))
    return rng.choice(VALUES)


def random_condition(rng: random.Random, depth: int = 0) -> str:
    if depth < 3 and rng.random() < 0.2:
        kind = rng.choice(["or", "and", "not.or", "not.and"])
        return f"{kind}({','.join(random_condition(rng, depth + 1) for _ in range(rng.randint(0, 3)))})"
    key = rng.choice([k for k in KEYS if k not in CONTROL])
    return f"{key}.{rng.choice(OPS)}.{random_value(rng)}"


def random_params(rng: random.Random) -> list[tuple[str, str]]:
    params = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.7:
            key = rng.choice(list(SENSIBLE))
            params.append((key, rng.choice(SENSIBLE[key])))
            continue
        key = rng.choice(KEYS)
        if key in CONTROL:
            value = rng.choice(CONTROL[key])
        elif key in ("or", "and", "not.or", "not.and"):
            value = f"({','.join(random_condition(rng) for _ in range(rng.randint(0, 3)))})"
        else:
            value = f"{rng.choice(OPS)}.{random_value(rng)}"
        params.append((key, value))
    return params


@pytest.fixture
def filled(crm):
    acme = crm.create("crm.account", name="Acme", revenue={"amount": "5", "currency": "EUR"})
    tag = crm.create("crm.tag", name="vip")
    for i in range(3):
        crm.create(
            "crm.contact",
            name=f"c{i}",
            age=i,
            account=acme,
            tags=[tag],
            channels=["email"],
            budget={"amount": str(i), "currency": "EUR"},
        )
    return crm


def test_random_queries_return_records_or_an_invalid_query(filled):
    rng = random.Random(20260101)
    outcomes = {"ok": 0, "invalid": 0}
    for _ in range(400):
        params = random_params(rng)
        try:
            filled.query("crm.contact", params)
            outcomes["ok"] += 1
        except InvalidQuery as exc:
            assert exc.status == 400 and str(exc), params
            outcomes["invalid"] += 1
        except Exception as exc:  # the failure message shows the query that broke it
            raise AssertionError(f"{params!r} raised {type(exc).__name__}: {exc}") from exc
    assert outcomes["ok"] > 60 and outcomes["invalid"] > 60, outcomes


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"name": "eq.a\x00b"}, "NUL character"),
        ({"name": "eq.\ud800"}, "not valid Unicode"),
        ({"account": "eq.99999999999999999999"}, "a whole number from 1 to 9223372036854775807"),
        ({"tags": "cs.{99999999999999999999}"}, "a whole number from 1 to 9223372036854775807"),
        ({"rating": "gt.1e999999"}, "Rating has more than 8 digits before the decimal point"),
        ({"seen_at": "gt.0001-01-01T00:00:00+05:00"}, "cannot be read from"),
        ({"id": "in.(" + ",".join(map(str, range(1001))) + ")"}, "at most 1000 values"),
    ],
)
def test_hostile_values_are_refused_before_they_reach_the_database(filled, params, fragment):
    with pytest.raises(InvalidQuery) as caught:
        filled.query("crm.contact", params)
    assert fragment in str(caught.value)
