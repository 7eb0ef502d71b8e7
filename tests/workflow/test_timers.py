"""Timers: a record that stays in a state longer than an ISO 8601 duration, or until a date
field, fires an escalation action or a transition; the due time is a pure computation."""

from __future__ import annotations

import datetime as dt

import pytest
from engine_support import NOW, REP, opp

from xrm.workflow import check_workflow, due_timers, fire_timer, next_due, parse_duration, timer_due

ENTERED = dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        ("PT4H", utc(2025, 3, 1, 8), utc(2025, 3, 1, 12)),
        ("P2D", utc(2025, 3, 1, 8), utc(2025, 3, 3, 8)),
        ("P1W", utc(2025, 3, 1), utc(2025, 3, 8)),
        ("P1DT1H30M", utc(2025, 3, 1), utc(2025, 3, 2, 1, 30)),
        ("PT0.5S", utc(2025, 3, 1), utc(2025, 3, 1, 0, 0, 0, 500000)),
        ("P1M", utc(2025, 1, 31), utc(2025, 2, 28)),
        ("P1Y", utc(2024, 2, 29), utc(2025, 2, 28)),
        ("-P1D", utc(2025, 3, 1), utc(2025, 2, 28)),
    ],
)
def test_iso_8601_durations_add_calendar_months_and_exact_time(text, start, due):
    assert parse_duration(text).add_to(start) == due


@pytest.mark.parametrize("text", ["", "P", "PT", "4h", "P2X", "P1DT", "1 day"])
def test_other_texts_are_not_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def remind(wf):
    return wf.timers_of("quoted")[0]


def expire(wf):
    return wf.timers_of("quoted")[1]


def test_an_after_timer_is_due_that_long_after_the_record_entered_the_state(discount_wf):
    assert timer_due(discount_wf, remind(discount_wf), opp(stage="quoted"), ENTERED) == utc(
        2025, 3, 8, 8, 30
    )


def test_an_at_timer_is_due_on_the_date_field_shifted_by_its_offset(discount_wf):
    record = opp(stage="quoted", valid_until="2025-03-31")
    assert timer_due(discount_wf, expire(discount_wf), record, ENTERED) == utc(2025, 4, 1)


def test_an_at_timer_with_an_empty_date_is_never_due(discount_wf):
    assert timer_due(discount_wf, expire(discount_wf), opp(stage="quoted"), ENTERED) is None


def test_due_timers_lists_the_state_timers_that_are_due_and_not_yet_fired(discount_wf):
    record = opp(stage="quoted", valid_until="2025-03-02")
    later = utc(2025, 3, 10)
    assert [d.name for d in due_timers(discount_wf, record, ENTERED, later)] == ["expire", "remind"]
    assert [d.name for d in due_timers(discount_wf, record, ENTERED, later, fired=["expire"])] == [
        "remind"
    ]
    assert due_timers(discount_wf, record, ENTERED, utc(2025, 3, 2)) == []


def test_timers_of_other_states_are_not_due(discount_wf):
    assert due_timers(discount_wf, opp(stage="draft"), ENTERED, utc(2026, 1, 1)) == []


def test_next_due_tells_the_scheduler_when_to_look_again(discount_wf):
    record = opp(stage="quoted", valid_until="2025-03-31")
    assert next_due(discount_wf, record, ENTERED) == utc(2025, 3, 8, 8, 30)
    assert next_due(discount_wf, record, ENTERED, fired=["remind"]) == utc(2025, 4, 1)


def test_a_timer_with_actions_yields_their_effects(discount_wf):
    record = opp(stage="quoted", valid_until="2025-04-30")
    (due,) = due_timers(discount_wf, record, ENTERED, utc(2025, 3, 9))
    firing = fire_timer(discount_wf, due, record, REP, now=NOW)
    assert firing.to_state == "quoted"
    assert [e.as_dict()["data"] for e in firing.effects] == [
        {"users": [REP], "roles": [], "subject": "ACME renewal is waiting"}
    ]


def test_a_timer_with_a_transition_takes_it_as_the_platform(discount_wf):
    record = opp(stage="quoted", valid_until="2025-03-02")
    (due,) = due_timers(discount_wf, record, ENTERED, utc(2025, 3, 4))
    firing = fire_timer(discount_wf, due, record, REP, now=NOW)
    assert (firing.transition, firing.to_state) == ("expire", "lost")
    assert firing.values["lost_reason"] == "quote expired"


def test_a_timer_whose_condition_does_not_hold_does_nothing(discount_doc, opportunity):
    discount_doc["states"]["quoted"]["timers"][0]["when"] = "record.amount > 1000.0"
    wf = check_workflow(discount_doc, opportunity)
    record = opp(stage="quoted", valid_until="2025-04-30", amount="500")
    (due,) = due_timers(wf, record, ENTERED, utc(2025, 3, 9))
    assert fire_timer(wf, due, record, REP, now=NOW) is None
