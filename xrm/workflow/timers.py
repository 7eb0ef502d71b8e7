"""Timers: escalation when a record stays in a state too long, or when a date is reached.

A state declares timers::

    "timers": [
      {"name": "follow_up", "after": "P2D", "actions": [{"type": "notify", ...}]},
      {"name": "expire", "at": "valid_until", "offset": "P1D", "transition": "expire"}
    ]

``after`` counts from the moment the record entered the state; ``at`` names a date or datetime
field (a date is due at midnight UTC), shifted by ``offset`` (negative: before it). Durations are
ISO 8601 (``PT4H``, ``P2D``, ``P1M``); years and months are calendar arithmetic, so one month after
31 January is the last day of February. A timer fires once per stay in its state; the scheduler
(storage side) remembers which have fired. Everything here is pure.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .actions import run_actions
from .compiler import CompiledTimer, CompiledWorkflow
from .engine import SYSTEM, Firing, fire
from .errors import Reason, TransitionRefused
from .expressions import Activation, ExpressionError
from .expressions.values import ResultError, cel_value

_DURATION = re.compile(
    r"^(?P<sign>-)?P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration: calendar parts (years, months) and an exact part."""

    years: int = 0
    months: int = 0
    delta: dt.timedelta = dt.timedelta()
    negative: bool = False

    def add_to(self, moment: dt.datetime) -> dt.datetime:
        sign = -1 if self.negative else 1
        total_months = moment.month - 1 + sign * (self.years * 12 + self.months)
        year, month = moment.year + total_months // 12, total_months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + sign * self.delta


def parse_duration(text: str) -> Duration:
    """``P2D``, ``PT4H``, ``P1Y2M10DT2H30M``, ``-P1D``; raise ValueError otherwise."""
    m = _DURATION.match(text or "")
    if not m:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT4H or P2D")
    n = {
        k: float(v) if k == "seconds" else int(v)
        for k, v in m.groupdict().items()
        if v and k != "sign"
    }
    delta = dt.timedelta(
        weeks=n.get("weeks", 0),
        days=n.get("days", 0),
        hours=n.get("hours", 0),
        minutes=n.get("minutes", 0),
        seconds=n.get("seconds", 0),
    )
    return Duration(n.get("years", 0), n.get("months", 0), delta, bool(m.group("sign")))


@dataclass(frozen=True)
class DueTimer:
    timer: CompiledTimer
    due: dt.datetime

    @property
    def name(self) -> str:
        return self.timer.spec.name


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def timer_due(
    wf: CompiledWorkflow, timer: CompiledTimer, record: Mapping[str, Any], entered_at: dt.datetime
) -> dt.datetime | None:
    """When ``timer`` is due for a record that entered its state at ``entered_at``; None when
    its date field is empty."""
    spec = timer.spec
    if spec.after is not None:
        return parse_duration(spec.after).add_to(_utc(entered_at))
    f = wf.entity.field(spec.at)
    moment = cel_value(f.type, record.get(spec.at))
    if moment is None:
        return None
    return parse_duration(spec.offset).add_to(moment) if spec.offset else moment


def due_timers(
    wf: CompiledWorkflow,
    record: Mapping[str, Any],
    entered_at: dt.datetime,
    now: dt.datetime,
    fired: Iterable[str] = (),
) -> list[DueTimer]:
    """The timers of the record's state that are due at ``now`` and have not fired during this
    stay (``fired``: their names), earliest first."""
    state = record.get(wf.state_field)
    done = set(fired)
    out = []
    for timer in wf.timers_of(state):
        if timer.spec.name in done:
            continue
        due = timer_due(wf, timer, record, entered_at)
        if due is not None and due <= _utc(now):
            out.append(DueTimer(timer, due))
    return sorted(out, key=lambda d: d.due)


def next_due(
    wf: CompiledWorkflow,
    record: Mapping[str, Any],
    entered_at: dt.datetime,
    fired: Iterable[str] = (),
) -> dt.datetime | None:
    """The earliest due time among the state's timers not yet fired (for the scheduler)."""
    done = set(fired)
    times = [
        timer_due(wf, t, record, entered_at)
        for t in wf.timers_of(record.get(wf.state_field))
        if t.spec.name not in done
    ]
    times = [t for t in times if t is not None]
    return min(times) if times else None


def fire_timer(
    wf: CompiledWorkflow,
    due: DueTimer,
    record: Mapping[str, Any],
    owner_id: int | None,
    *,
    now: dt.datetime | None = None,
) -> Firing | None:
    """Run a due timer as the platform: its actions, then its transition if it has one.
    None when its ``when`` condition does not hold (the timer is then spent all the same).
    A refused transition or a failing action raises
    :class:`~xrm.workflow.errors.TransitionRefused`."""
    timer = due.timer
    state = record.get(wf.state_field)
    activation = Activation.for_record(wf.entity, record, now=now)
    try:
        if timer.when is not None and timer.when.evaluate(activation) is not True:
            return None
        values, effects = run_actions(timer.actions, activation, wf.entity, record)
    except (ExpressionError, ResultError) as exc:
        reason = Reason("action_failed", f"timer {timer.spec.name!r} failed: {exc}", 422)
        raise TransitionRefused(wf.entity.name, f"timer:{timer.spec.name}", (reason,)) from None
    if timer.spec.transition is None:
        return Firing(f"timer:{timer.spec.name}", state, state, values, effects)
    firing = fire(wf, timer.spec.transition, {**record, **values}, SYSTEM, owner_id, now=now)
    return Firing(
        firing.transition,
        firing.from_state,
        firing.to_state,
        {**values, **firing.values},
        effects + firing.effects,
    )
