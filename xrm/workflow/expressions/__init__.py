"""Expressions: CEL, compiled once per definition version and type-checked against the entity.

:func:`compile_expression` runs two passes over a source text: the CEL binding compiles it (and
is the judge of syntax), then the static checker (:mod:`.checker`) infers its type from the
declared variables and functions. Either pass reports problems with a line and column; nothing
is evaluated and nothing is ever passed to ``eval``.

At run time :class:`Activation` holds the variables of one evaluation (``record``, ``user``,
``now``, ``today``) converted once, and :meth:`Expression.evaluate` runs a compiled program
against it, turning every failure into an :class:`ExpressionError` that names the expression.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xrm.metadata.model import EntityDefinition

from . import syntax
from .binding import cel
from .checker import Checker, record_fields, text_of, variable_uses
from .functions import PLATFORM_FUNCTIONS
from .types import CelType, assignable, standard_variables
from .values import RecordValue, changed_record_value

__all__ = [
    "Activation",
    "Expression",
    "ExpressionError",
    "ExpressionProblem",
    "compile_expression",
    "standard_variables",
]

_CEL_ERROR = re.compile(r"<input>:(\d+):(\d+): (.*)")


class ExpressionError(Exception):
    """An expression failed at run time (a null operand, a division by zero...)."""

    def __init__(self, source: str, message: str):
        self.source = source
        self.message = message
        super().__init__(f"{source!r}: {message}")


@dataclass(frozen=True)
class ExpressionProblem:
    """A syntax or type problem, at a 1-based line and column of the source."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Expression:
    """A compiled, checked expression. Immutable and safe to share between threads."""

    source: str
    program: Any = field(repr=False, compare=False)
    type: CelType = field(compare=False)
    #: Fields of ``record`` the expression reads (for dependency order and approval snapshots).
    fields: frozenset[str] = frozenset()
    #: The variables it reads, with their fields (:func:`.checker.variable_uses`); None: all.
    uses: tuple[tuple[str, frozenset[str] | None], ...] | None = field(
        default=None, repr=False, compare=False
    )

    #: ``(variable,)`` or ``(variable, field)`` when the expression is only that name.
    path: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    def evaluate(self, activation: Activation) -> Any:
        if self.path is not None:
            value = activation.plain(self.path)
            if value is not _NOT_PLAIN:
                return value
        try:
            return self.program.execute(activation.context_for(self.uses))
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # the binding raises Rust panics as BaseException
            raise ExpressionError(self.source, _runtime_message(exc, self, activation)) from None


def _runtime_message(exc: BaseException, expr: Expression, activation: Activation) -> str:
    first = str(exc).split(". ", 1)[0].strip() or type(exc).__name__
    record = activation.variables.get("record") or {}
    empty = sorted(f for f in expr.fields if record.get(f) is None)
    if empty:
        names = ", ".join(f"record.{f}" for f in empty)
        return f"{first} ({names} {'is' if len(empty) == 1 else 'are'} empty)"
    return first


#: :meth:`Activation.plain`'s answer for a value CEL must give
_NOT_PLAIN = object()


class Activation:
    """The variables of one evaluation, converted for CEL once and shared by every expression
    evaluated against the same record.

    ``record`` is a :class:`.values.RecordValue`: its fields are converted when first read.
    An expression is evaluated in a CEL context holding only the variables and fields it
    reads (one context per set of them): building a context converts every value given to it
    into the binding's own, tens of microseconds for a whole record against a few for the
    fields a guard reads. The result is the same, as every name the expression reads is in
    it, with the same value."""

    def __init__(self, variables: Mapping[str, Any]):
        self.variables = dict(variables)
        self._contexts: dict[Any, cel.Context] = {}

    @classmethod
    def for_record(
        cls,
        entity: EntityDefinition,
        record: Mapping[str, Any],
        *,
        user_id: int | None = None,
        roles: tuple[str, ...] | frozenset[str] = (),
        now: dt.datetime | None = None,
        **extra: Any,
    ) -> Activation:
        now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        today = dt.datetime.combine(now.date(), dt.time(), dt.UTC)
        return cls(
            {
                "record": RecordValue.of(entity, record),
                "user": {"id": user_id, "roles": sorted(roles)},
                "now": now,
                "today": today,
                **extra,
            }
        )

    def with_record(self, entity: EntityDefinition, record: Mapping[str, Any]) -> Activation:
        return Activation({**self.variables, "record": RecordValue.of(entity, record)})

    def with_changes(self, entity: EntityDefinition, changes: Mapping[str, Any]) -> Activation:
        """As :meth:`with_record` for this activation's record with ``changes`` applied,
        converting only the changed fields."""
        record = self.variables["record"]
        if isinstance(record, RecordValue):
            record = record.changed(changes)
        else:
            record = changed_record_value(entity, record, changes)
        return Activation({**self.variables, "record": record})

    def plain(self, path: tuple[str, ...]) -> Any:
        """The value of a variable or of a field of one, when CEL would give it back as it is
        (null, bool, int, double, string, UTC timestamp): an expression that only names it
        (``now``, ``record.id``) needs no context. Anything else: ``_NOT_PLAIN``."""
        value = self.variables.get(path[0], _NOT_PLAIN)
        if len(path) == 2 and value is not _NOT_PLAIN:
            if isinstance(value, RecordValue | dict) and path[1] in value:
                value = value[path[1]]
            else:
                return _NOT_PLAIN
        kind = type(value)
        if value is None or kind is bool or kind is str or kind is float:
            return value
        if kind is int and -(2**63) <= value < 2**63:
            return value
        if kind is dt.datetime and value.tzinfo is dt.UTC:
            return value
        return _NOT_PLAIN

    @property
    def context(self) -> cel.Context:
        """Every variable, whole."""
        return self.context_for(None)

    def context_for(self, uses: tuple[tuple[str, frozenset[str] | None], ...] | None):
        """The context of an expression reading ``uses`` (None: everything)."""
        try:
            return self._contexts[uses]
        except KeyError:
            pass
        if uses is None:
            wanted = [(name, None) for name in self.variables]
        else:
            wanted = [(name, fields) for name, fields in uses if name in self.variables]
        variables = {}
        for name, fields in wanted:
            value = self.variables[name]
            if isinstance(value, RecordValue):
                value = value.whole() if fields is None else value.only(fields)
            variables[name] = value
        context = cel.Context(variables=variables, functions=PLATFORM_FUNCTIONS)
        self._contexts[uses] = context
        return context


def compile_expression(
    source: str,
    variables: Mapping[str, CelType],
    expect: CelType | None = None,
    target: str = "",
) -> tuple[Expression | None, list[ExpressionProblem]]:
    """Compile and check ``source``. ``expect`` is the type the result must have (``bool`` for a
    condition, the field's type for a value); ``target`` names it in messages."""
    if not isinstance(source, str) or not source.strip():
        return None, [ExpressionProblem(1, 1, "the expression is empty")]
    try:
        program = cel.compile(source)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        return None, [_syntax_problem(str(exc))]
    try:
        tree = syntax.parse(source)
    except syntax.Unsupported as exc:
        # Every expression is type-checked; CEL the checker does not model is refused.
        line, col = syntax.line_column(source, exc.pos)
        return None, [ExpressionProblem(line, col, str(exc))]
    checker = Checker(variables)
    result = checker.check(tree)
    problems = [
        ExpressionProblem(*syntax.line_column(source, i.pos), i.message)
        for i in sorted(checker.issues, key=lambda i: i.pos)
    ]
    if not problems and expect is not None:
        problems += _expectation(source, tree, result, expect, target)
    expr = Expression(
        source, program, result, record_fields(tree), variable_uses(tree), _path(tree)
    )
    return (None if problems else expr), problems


def _path(tree: syntax.Node) -> tuple[str, ...] | None:
    if isinstance(tree, syntax.Ident):
        return (tree.name,)
    if isinstance(tree, syntax.Select) and isinstance(tree.operand, syntax.Ident):
        return (tree.operand.name, tree.field)
    return None


def _expectation(
    source, tree, result: CelType, expect: CelType, target: str
) -> list[ExpressionProblem]:
    line, col = syntax.line_column(source, 0)
    if expect.kind == "bool":
        if result.kind not in ("bool", "dyn"):
            return [ExpressionProblem(line, col, f"must be a condition (bool), but gives {result}")]
        return []
    what = target or "the field"
    if not assignable(result, expect):
        label = f" ({expect.label})" if expect.label else ""
        return [
            ExpressionProblem(line, col, f"gives {result}, which cannot be stored in {what}{label}")
        ]
    literal = isinstance(tree, syntax.Literal) and tree.kind == "string"
    if expect.options and literal and tree.value not in expect.options:
        options = ", ".join(expect.options)
        return [
            ExpressionProblem(line, col, f"{text_of(tree)} is not an option of {what} ({options})")
        ]
    return []


def _syntax_problem(text: str) -> ExpressionProblem:
    m = _CEL_ERROR.search(text)
    if not m:
        return ExpressionProblem(1, 1, text.splitlines()[0] if text else "cannot be parsed")
    message = m.group(3)
    inner = re.search(r'msg: "([^"]+)"', message)  # the binding's own errors, unwrapped
    if inner:
        message = f"Syntax error: {inner.group(1)}"
    message = re.sub(r" expecting \{.*\}$", "", message)  # the token list helps nobody
    message = message.replace("mismatched input '<EOF>'", "unexpected end of the expression")
    return ExpressionProblem(int(m.group(1)), int(m.group(2)), message)
