"""Five-field cron expressions (minute hour day-of-month month day-of-week, UTC) for scheduled
automations: ``*``, lists, ranges and steps (``*/15``, ``1-5``, ``0,30``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # weekday 7 is Sunday too
_NAMES = ("minute", "hour", "day of month", "month", "day of week")


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Cron:
    text: str
    fields: tuple[frozenset[int], ...]
    #: Day of month and day of week both restricted: either matches (cron's rule).
    either_day: bool

    def matches(self, moment: dt.datetime) -> bool:
        minute, hour, dom, month, dow = self.fields
        weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday
        day_ok = (
            (moment.day in dom or weekday in dow)
            if self.either_day
            else (moment.day in dom and weekday in dow)
        )
        return moment.minute in minute and moment.hour in hour and moment.month in month and day_ok

    def due_between(self, after: dt.datetime, until: dt.datetime) -> dt.datetime | None:
        """The latest matching minute in (after, until], or None."""
        t = until.replace(second=0, microsecond=0)
        limit = max(after, until - dt.timedelta(days=1))
        while t > limit:
            if self.matches(t):
                return t
            t -= dt.timedelta(minutes=1)
        return None


def _part(text: str, i: int) -> frozenset[int]:
    lo, hi = _RANGES[i]
    out: set[int] = set()
    for item in text.split(","):
        base, _, step = item.partition("/")
        try:
            n = int(step) if step else 1
            if base == "*":
                a, b = lo, hi
            elif "-" in base:
                a, b = (int(x) for x in base.split("-", 1))
            else:
                a = b = int(base)
        except ValueError:
            raise CronError(f"{_NAMES[i]} {item!r} is not a number, range or step") from None
        if not (lo <= a <= hi and lo <= b <= hi and a <= b and n >= 1):
            raise CronError(f"{_NAMES[i]} {item!r} is outside {lo}-{hi}")
        out.update(v % 7 if i == 4 else v for v in range(a, b + 1, n))
    return frozenset(out)


def parse_cron(text: str) -> Cron:
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"{text!r}: a cron expression has five fields (minute hour day month weekday)"
        )
    fields = tuple(_part(p, i) for i, p in enumerate(parts))
    return Cron(text, fields, parts[2] != "*" and parts[4] != "*")
