"""Expressions are CEL, compiled by the binding and type-checked against the entity's fields
before anything runs: a mistake is reported with its line, column and a plain message."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from engine_support import NOW

from xrm.workflow.expressions import (
    Activation,
    ExpressionError,
    compile_expression,
    standard_variables,
)
from xrm.workflow.expressions.types import BOOL, field_cel_type


@pytest.fixture
def variables(opportunity):
    return standard_variables(opportunity)


def problems(source, variables, expect=BOOL):
    expr, found = compile_expression(source, variables, expect)
    assert (expr is None) == bool(found)
    return [str(p) for p in found]


def evaluate(source, entity, record, **kw):
    expr, found = compile_expression(source, standard_variables(entity))
    assert not found, found
    return expr.evaluate(Activation.for_record(entity, record, now=NOW, **kw))


def test_a_well_typed_condition_compiles_and_lists_the_fields_it_reads(variables):
    expr, found = compile_expression(
        "record.amount > 1000.0 && record.stage == 'draft'", variables, BOOL
    )
    assert found == []
    assert expr.fields == {"amount", "stage"}


def test_an_unknown_field_is_named_with_its_position_and_a_suggestion(variables):
    assert problems("record.amout > 1000.0", variables) == [
        "1:8: sales.opportunity has no field 'amout' (did you mean 'amount'?)"
    ]


def test_an_unknown_function_is_reported(variables):
    assert problems("frobnicate(record.amount) > 1.0", variables) == [
        "1:1: unknown function 'frobnicate'"
    ]


def test_an_unknown_name_lists_the_names_that_exist(variables):
    assert problems("rec.amount > 1.0", variables) == [
        "1:1: unknown name 'rec' (did you mean 'record'?); available: now, record, today, user"
    ]


def test_comparing_a_decimal_field_with_text_is_a_type_error(variables):
    assert problems("record.amount > 'x'", variables) == [
        "1:15: '>' cannot compare record.amount (decimal field, double in CEL) with \"x\" (string)"
    ]


def test_comparing_a_decimal_field_with_a_whole_number_is_fine(variables):
    # CEL compares int with double; only arithmetic refuses to mix them.
    assert problems("record.amount > 1000", variables) == []


def test_arithmetic_mixing_double_and_int_is_refused_with_the_fix(variables):
    assert problems("record.amount * 2 > 10.0", variables) == [
        "1:15: '*' cannot mix record.amount (decimal field, double in CEL) and 2 (int): "
        "CEL never converts between int and double; write 2.0 instead of 2"
    ]


def test_a_value_that_is_not_an_option_of_a_choice_field_is_an_error(variables):
    assert problems("record.stage == 'wonn'", variables) == [
        "1:17: 'wonn' is not an option of record.stage (draft, quoted, won, lost) "
        "(did you mean 'won'?)"
    ]
    assert problems("record.stage in ['draft', 'qoted']", variables) == [
        "1:27: 'qoted' is not an option of record.stage (draft, quoted, won, lost) "
        "(did you mean 'quoted'?)"
    ]


def test_dates_compare_with_dates_not_with_text(variables):
    assert problems("record.close_date < date('2025-12-31')", variables) == []
    assert problems("record.close_date < '2025-12-31'", variables) == [
        "1:19: '<' cannot compare record.close_date (date field, timestamp in CEL) "
        'with "2025-12-31" (string)'
    ]


def test_malformed_duration_and_timestamp_literals_are_reported_at_save_time(variables):
    assert problems("now - record.quoted_at > duration('P2D')", variables) == [
        "1:35: 'P2D' is not a CEL duration; write e.g. '4h', '30m' or '172800s' "
        "(ISO 8601 like 'P2D' is for timers)"
    ]
    assert (
        "1:11: '2025-01-01' is not an RFC 3339 timestamp"
        in problems("timestamp('2025-01-01') < now", variables)[0]
    )


def test_a_syntax_error_names_the_line_and_column(variables):
    assert problems("record.amount > 1.0 &&\n  (record.discount >", variables) == [
        "2:21: Syntax error: unexpected end of the expression"
    ]


def test_several_problems_in_one_expression_are_all_reported(variables):
    found = problems("record.nope > 1.0 || record.stage == 'x' || foo()", variables)
    assert len(found) == 3


def test_a_condition_must_be_a_bool(variables):
    assert problems("record.amount", variables) == [
        "1:1: must be a condition (bool), but gives double"
    ]


def test_a_value_must_fit_the_field_it_is_written_to(variables, opportunity):
    quantity = field_cel_type(opportunity.field("quantity"))
    assert problems("record.amount", variables, quantity) == [
        "1:1: gives double, which cannot be stored in the field (integer field)"
    ]
    assert problems("int(record.amount)", variables, quantity) == []
    priority = field_cel_type(opportunity.field("priority"))
    assert problems("'urgent'", variables, priority) == [
        '1:1: "urgent" is not an option of the field (low, normal, high)'
    ]


def test_methods_and_functions_are_called_the_way_cel_accepts_them(variables):
    assert problems("record.name.contains('ACME')", variables) == []
    assert problems("contains(record.name, 'ACME')", variables) == [
        "1:1: call contains() on its value, e.g. x.contains(...)"
    ]
    assert problems("record.name.contains(1)", variables) == [
        "1:13: contains() does not accept (string, int)"
    ]


def test_comprehensions_bind_their_variable(variables):
    assert problems("record.tags.exists(t, t == 'upsell')", variables) == []
    assert problems("record.tags.all(t, t > 1)", variables) == [
        "1:22: '>' cannot compare t (string) with 1 (int)"
    ]


def test_json_fields_are_not_checked(variables):
    assert problems("record.extra.anything.goes == 1", variables) == []


def test_python_is_not_reachable_from_an_expression(variables):
    assert problems("__import__('os').system('true') == 0", variables) == [
        "1:1: unknown function '__import__'",
        "1:18: unknown function 'system'",
    ]


def test_decimal_values_become_doubles_whether_json_text_or_decimal(opportunity):
    assert evaluate("record.amount", opportunity, {"amount": "1500.25"}) == 1500.25
    assert evaluate("record.amount", opportunity, {"amount": Decimal("1500.25")}) == 1500.25


def test_dates_become_utc_timestamps_at_midnight(opportunity):
    expected = dt.datetime(2025, 3, 31, tzinfo=dt.UTC)
    assert evaluate("record.close_date", opportunity, {"close_date": "2025-03-31"}) == expected
    assert (
        evaluate("record.close_date", opportunity, {"close_date": dt.date(2025, 3, 31)}) == expected
    )
    assert evaluate(
        "record.close_date == date('2025-03-31')", opportunity, {"close_date": "2025-03-31"}
    )


def test_now_and_today_are_given(opportunity):
    assert evaluate("now", opportunity, {}) == NOW
    assert evaluate("today", opportunity, {}) == dt.datetime(2025, 3, 3, tzinfo=dt.UTC)


def test_money_is_an_amount_and_a_currency(opportunity):
    record = {"price": {"amount": "99.90", "currency": "EUR"}}
    assert evaluate(
        "record.price.amount > 50.0 && record.price.currency == 'EUR'", opportunity, record
    )


def test_the_user_is_given_with_id_and_roles(opportunity):
    source = "'sales_manager' in user.roles && user.id != record.owner_id"
    assert evaluate(source, opportunity, {"owner_id": 1}, user_id=2, roles=("sales_manager",))


def test_a_runtime_failure_names_the_expression_and_the_empty_fields(opportunity):
    expr, _ = compile_expression("record.discount > 10.0", standard_variables(opportunity))
    with pytest.raises(ExpressionError) as info:
        expr.evaluate(Activation.for_record(opportunity, {"discount": None}, now=NOW))
    assert info.value.source == "record.discount > 10.0"
    assert "record.discount is empty" in info.value.message


def test_platform_functions_round_like_money(opportunity):
    assert evaluate("round(2.345, 2)", opportunity, {}) == 2.35
    assert evaluate("round(-2.5)", opportunity, {}) == -3.0
    assert evaluate("max(record.amount, 10.0)", opportunity, {"amount": "3"}) == 10.0


@pytest.mark.parametrize(
    "source",
    [
        "'it\\'s' + \"\\u00e9\\n\" + r'\\d+' + '''multi\nline''' == 'x'",
        "b'abc' == bytes('abc')",
        "0x1F + 1 == 32 && 3u == uint(3) && -1.5e2 < .5",
        "!!(record.amount > 1.0) || -(-(1)) == 1",
        "record.amount > 1.0 ? record.stage == 'won' : record.stage != 'lost'",
        "{'a': 1, 'b': 2}['a'] == 1 && [1, 2, 3][0] == 1 && size({'k': [1]}) == 1",
        "record['name'] != '' // a comment\n && .record.name.startsWith('A')",
        "record.tags.map(t, t + '!').filter(t, t.endsWith('!')).size() >= 0",
        "record.tags.map(t, t != 'upsell', t.size()).exists_one(n, n > 0)",
        "has(record.price) && has(record.price.amount)",
        "now.getDayOfWeek() in [1, 2, 3, 4, 5] && now.getHours() < 18",
        "today + duration('720h') > now - duration('1h30m')",
        "string(record.quantity) + 'x' == '3x' || double(record.quantity) > 2.5",
        "record.name.matches('^[A-Z]') && record.name.lowerAscii().trim() != ''",
    ],
)
def test_the_checker_understands_every_form_of_cel_the_platform_uses(source, variables):
    """The binding judges syntax; the checker must model every valid form, or it would refuse
    valid expressions."""
    assert problems(source, variables) == []


def test_any_text_gives_problems_or_an_expression_never_an_exception(variables):
    rng = random.Random(20250303)
    alphabet = "record.amount stage ()[]{}'\"+-*/%<>=!&|?:,.0123456789abc \n\\"
    texts = ["", "(((", "'", "\x00", "a" * 5000, "(" * 300 + "1" + ")" * 300, "!" * 500 + "true"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(2000)]
    for text in texts:
        expr, found = compile_expression(text, variables, BOOL)
        assert (expr is None) == bool(found), text


def test_deeply_nested_expressions_are_refused_not_crashed_on(variables):
    assert problems("!" * 500 + "true", variables) == [
        "1:1: expression nested more than 100 levels deep"
    ]
    assert problems("(" * 300 + "true" + ")" * 300, variables) == [
        "1:97: Syntax error: Recursion limit of 96 exceeded"
    ]


def test_a_record_is_indexed_by_field_names(variables):
    assert problems("record[0] == 1", variables) == [
        "1:7: sales.opportunity is indexed by a field name, not 0 (int)"
    ]


def test_values_that_do_not_fit_their_field_reach_cel_as_null(opportunity):
    # The record service reports them; an expression must not crash on them first.
    assert evaluate("record.amount == null", opportunity, {"amount": "a lot"})
    assert evaluate("record.close_date == null", opportunity, {"close_date": "someday"})
    assert evaluate("record.quantity == null", opportunity, {"quantity": 2**64})


def test_a_result_too_large_for_its_decimal_field_is_refused(opportunity):
    from xrm.workflow.expressions.values import ResultError, field_value

    amount = opportunity.field("amount")  # precision 14, scale 2
    assert field_value(amount, 0.125) == "0.13"
    assert field_value(amount, 999999999999.994) == "999999999999.99"
    for huge in (1e12, 1e300):
        with pytest.raises(ResultError, match="more than 12 digits before the point"):
            field_value(amount, huge)


def test_an_expression_knows_the_variables_and_fields_it_reads(variables):
    expr, _ = compile_expression(
        "record.amount > 0.0 && record['stage'] == 'draft' && now > today && "
        "user.roles.exists(r, r == 'x')",
        variables,
        BOOL,
    )
    assert dict(expr.uses) == {
        "now": None,
        "r": None,
        "record": {"amount", "stage"},
        "today": None,
        "user": {"roles"},
    }
    # Used whole (as a map, or by a computed key): every field is given.
    whole, _ = compile_expression("size(record) > 0 && record.amount > 0.0", variables, BOOL)
    assert dict(whole.uses)["record"] is None


RECORD = {
    "id": 7,
    "row_version": 3,
    "updated_at": dt.datetime(2030, 1, 2, 3, 4, 5),
    "name": "ACME",
    "amount": "1500.00",
    "discount": Decimal("12.5"),
    "close_date": "2030-02-01",
    "quoted_at": "2030-01-02T03:04:05Z",
    "price": {"amount": "9.99", "currency": "EUR"},
    "tags": ["upsell"],
    "extra": {"a": [1, Decimal("2.5")]},
}


@pytest.mark.parametrize(
    "source",
    [
        "record.amount * 2.0",
        "record.close_date",
        "record.quoted_at",
        "record.updated_at",
        "record.price.amount",
        "record.tags",
        "record.extra",
        "record.net_amount == null",
        "has(record.priority)",
        "record.discount + record.amount",
        "size(record)",
        "record",
        "[record.id, record.row_version, now, today, user.id]",
        # Names alone: given back without a context, as CEL gives them.
        "now",
        "record.id",
        "record.name",
        "record.amount",
        "record.quoted_at",
        "record.priority",
        "record.tags",
        "record.price",
        "user.id",
        "user.roles",
        "user",
    ],
)
def test_an_expression_sees_the_values_the_whole_record_gives(source, variables, opportunity):
    from xrm.workflow.expressions.binding import cel
    from xrm.workflow.expressions.functions import PLATFORM_FUNCTIONS
    from xrm.workflow.expressions.values import record_value

    expr, found = compile_expression(source, variables)
    assert not found, found
    activation = Activation.for_record(opportunity, RECORD, user_id=4, roles=("r",), now=NOW)
    # Evaluated on every variable, the whole record converted at once (the way it was done):
    whole = dict(activation.variables, record=record_value(opportunity, RECORD))
    expected = expr.program.execute(cel.Context(variables=whole, functions=PLATFORM_FUNCTIONS))
    result = expr.evaluate(activation)
    assert result == expected and type(result) is type(expected)
    assert getattr(result, "tzinfo", None) == getattr(expected, "tzinfo", None)
    changed = activation.with_changes(opportunity, {"amount": "1.00", "tags": []})
    whole["record"] = record_value(opportunity, {**RECORD, "amount": "1.00", "tags": []})
    expected = expr.program.execute(cel.Context(variables=whole, functions=PLATFORM_FUNCTIONS))
    assert expr.evaluate(changed) == expected
