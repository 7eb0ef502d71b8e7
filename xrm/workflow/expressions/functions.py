"""The functions expressions may call: CEL's own, and the few the platform adds.

Each function is declared once, as data: how it may be called (``f(x)``, ``x.f()`` or both, as
the binding accepts them), its overloads, and for the platform's own functions the Python
implementation registered in the evaluation context. The checker reads the overloads; anything
not declared here is an unknown function.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .types import BOOL, BYTES, DOUBLE, DURATION, DYN, INT, STRING, TIMESTAMP, UINT, CelType

#: Argument patterns: a CEL kind, or ``num`` (int, uint or double), ``any``, ``list``, ``map``.
Signature = tuple[tuple[str, ...], CelType | Callable[[list[CelType]], CelType]]


@dataclass(frozen=True)
class Function:
    name: str
    overloads: tuple[Signature, ...]
    #: ``global`` (``f(x)``), ``method`` (``x.f()``) or ``both``.
    style: str = "global"
    #: Python implementation for functions the platform adds to CEL.
    impl: Callable[..., Any] | None = None
    doc: str = ""


def _same_as_first(args: list[CelType]) -> CelType:
    return args[0] if args else DYN


def _elem_of_first(args: list[CelType]) -> CelType:
    return args[0].elem() if args and args[0].kind == "list" else (args[0] if args else DYN)


def _date(text: str) -> dt.datetime:
    """``date('2025-03-31')``: midnight UTC of that day, comparable with date fields."""
    return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        values = list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)
        if not values:
            raise ValueError("needs at least one value")
        return pick(values)

    return fn


def _round(x: float, digits: int = 0) -> float:
    # Halves away from zero, as a person rounds money; Python's round() would go to even.
    factor = 10**digits
    return math.copysign(math.floor(abs(x) * factor + 0.5), x) / factor


_TS_PARTS = (
    "getFullYear",
    "getMonth",
    "getDayOfYear",
    "getDayOfMonth",
    "getDate",
    "getDayOfWeek",
)
_TIME_PARTS = ("getHours", "getMinutes", "getSeconds", "getMilliseconds")

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "size",
            ((("string",), INT), (("bytes",), INT), (("list",), INT), (("map",), INT)),
            "both",
        ),
        *(
            Function(n, ((("string", "string"), BOOL),), "method")
            for n in ("contains", "startsWith", "endsWith", "matches")
        ),
        Function(
            "int", ((("int",), INT), (("uint",), INT), (("double",), INT), (("string",), INT))
        ),
        Function(
            "uint", ((("int",), UINT), (("uint",), UINT), (("double",), UINT), (("string",), UINT))
        ),
        Function("double", ((("num",), DOUBLE), (("string",), DOUBLE))),
        Function("string", ((("any",), STRING),)),
        Function("bytes", ((("string",), BYTES), (("bytes",), BYTES))),
        Function("timestamp", ((("string",), TIMESTAMP), (("timestamp",), TIMESTAMP))),
        Function("duration", ((("string",), DURATION), (("duration",), DURATION))),
        Function("dyn", ((("any",), DYN),)),
        *(Function(n, ((("timestamp",), INT),), "method") for n in _TS_PARTS),
        *(
            Function(n, ((("timestamp",), INT), (("duration",), INT)), "method")
            for n in _TIME_PARTS
        ),
        # The platform's additions (plain Python, registered in every evaluation context).
        Function(
            "date",
            ((("string",), TIMESTAMP),),
            impl=_date,
            doc="date('2025-03-31'): midnight UTC of a calendar day, comparable with date fields.",
        ),
        Function(
            "min",
            ((("list",), _elem_of_first), (("num", "num"), _same_as_first)),
            impl=_extreme(min),
            doc="min(a, b) or min(list): the smaller value (both arguments of one type).",
        ),
        Function(
            "max",
            ((("list",), _elem_of_first), (("num", "num"), _same_as_first)),
            impl=_extreme(max),
            doc="max(a, b) or max(list): the larger value (both arguments of one type).",
        ),
        Function(
            "round",
            ((("double",), DOUBLE), (("double", "int"), DOUBLE)),
            impl=_round,
            doc="round(x) or round(x, digits): halves away from zero, as money is rounded.",
        ),
        Function(
            "lowerAscii",
            ((("string",), STRING),),
            "both",
            impl=str.lower,
            doc="'ABC'.lowerAscii(): lower case.",
        ),
        Function(
            "upperAscii",
            ((("string",), STRING),),
            "both",
            impl=str.upper,
            doc="'abc'.upperAscii(): upper case.",
        ),
        Function(
            "trim",
            ((("string",), STRING),),
            "both",
            impl=str.strip,
            doc="' a '.trim(): without leading and trailing spaces.",
        ),
    )
}

#: Comprehension macros: ``list.all(x, predicate)`` and friends; ``has(record.field)``.
MACROS = ("all", "exists", "exists_one", "map", "filter")

#: Python implementations for the evaluation context.
PLATFORM_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: f.impl for name, f in FUNCTIONS.items() if f.impl is not None
}


def matches(pattern: str, t: CelType) -> bool:
    if t.kind == "dyn" or pattern == "any":
        return True
    if pattern == "num":
        return t.numeric
    return t.kind == pattern or (pattern == "map" and t.kind == "object")


def resolve(fn: Function, args: list[CelType]) -> CelType | None:
    """The result type of a call, or None when no overload accepts the arguments."""
    for params, result in fn.overloads:
        if len(params) == len(args) and all(
            matches(p, a) for p, a in zip(params, args, strict=True)
        ):
            if fn.name in ("min", "max") and len(args) == 2:
                a, b = args
                if a.kind != "dyn" and b.kind != "dyn" and a.kind != b.kind:
                    return None
            return result(args) if callable(result) else result
    return None
