"""A static type checker for CEL expressions against an entity's fields.

The binding has no checker with declared types, so this one infers the type of every node of the
analysis AST (:mod:`.syntax`) bottom-up from the declared variables (``record`` with the entity's
fields, ``user``, ``now``, ``today``) and the declared functions (:mod:`.functions`). It reports
what CEL would only find at run time, when a record happens to reach that branch: unknown fields,
names and functions, comparisons and arithmetic between types CEL refuses to combine (``double``
and ``int`` never mix in arithmetic), values that are not options of a choice field, malformed
``timestamp``/``duration``/``date`` literals. ``dyn`` (JSON fields) is accepted everywhere.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import syntax as ast
from .functions import FUNCTIONS, MACROS, resolve
from .types import BOOL, DURATION, DYN, INT, NULL, TIMESTAMP, CelType, list_of, map_of

_ORDERED = ("string", "timestamp", "duration", "bool", "bytes")
_DURATION_LITERAL = re.compile(r"^-?([0-9]+(\.[0-9]+)?(h|m|s|ms|us|ns))+$")
_LITERAL_TYPES = {
    "int": INT,
    "uint": CelType("uint"),
    "double": CelType("double"),
    "string": CelType("string"),
    "bytes": CelType("bytes"),
    "bool": BOOL,
    "null": NULL,
}


@dataclass(frozen=True)
class Issue:
    """A type problem at an offset of the source."""

    pos: int
    message: str


def text_of(node: ast.Node) -> str:
    """Short source-like text of a node, to name it in messages."""
    if isinstance(node, ast.Ident):
        return node.name
    if isinstance(node, ast.Select):
        return f"{text_of(node.operand)}.{node.field}"
    if isinstance(node, ast.Literal):
        if node.kind == "string":
            return json.dumps(node.value, ensure_ascii=False)
        if node.kind == "bool":
            return "true" if node.value else "false"
        return "null" if node.kind == "null" else repr(node.value)
    if isinstance(node, ast.Call):
        return f"{node.function}(...)"
    return "the expression"


def _describe(node: ast.Node, t: CelType) -> str:
    what = t.label if t.label and t.kind != "object" else ""
    kind = str(t)
    if what and what != kind:
        return f"{text_of(node)} ({what}, {kind} in CEL)"
    return f"{text_of(node)} ({kind})"


def _suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Checker:
    def __init__(self, variables: Mapping[str, CelType]):
        self.scopes: list[dict[str, CelType]] = [dict(variables)]
        self.issues: list[Issue] = []

    def issue(self, node: ast.Node, message: str) -> CelType:
        self.issues.append(Issue(node.pos, message))
        return DYN

    def lookup(self, name: str) -> CelType | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def check(self, node: ast.Node) -> CelType:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        return method(node)

    # -- leaves and access --------------------------------------------------------------------

    def _literal(self, node: ast.Literal) -> CelType:
        return _LITERAL_TYPES[node.kind]

    def _ident(self, node: ast.Ident) -> CelType:
        t = self.lookup(node.name)
        if t is None:
            names = {n for s in self.scopes for n in s}
            return self.issue(
                node,
                f"unknown name {node.name!r}{_suggest(node.name, names)}; "
                f"available: {', '.join(sorted(names))}",
            )
        return t

    def _field(self, node: ast.Node, t: CelType, name: str) -> CelType:
        if t.kind == "object":
            if name in t.fields:
                return t.fields[name]
            return self.issue(node, f"{t.label} has no field {name!r}{_suggest(name, t.fields)}")
        if t.kind == "map":
            return t.args[1]
        if t.kind == "dyn":
            return DYN
        return self.issue(node, f"cannot read .{name} of {_describe(node, t)}")

    def _select(self, node: ast.Select) -> CelType:
        return self._field(node, self.check(node.operand), node.field)

    def _index(self, node: ast.Index) -> CelType:
        t, i = self.check(node.operand), self.check(node.index)
        if t.kind == "list":
            if i.kind not in ("int", "uint", "dyn"):
                self.issue(node, f"a list is indexed by an int, not {_describe(node.index, i)}")
            return t.elem()
        if t.kind == "object":
            if isinstance(node.index, ast.Literal) and node.index.kind == "string":
                return self._field(node, t, node.index.value)
            if i.kind not in ("string", "dyn"):
                return self.issue(
                    node, f"{t.label} is indexed by a field name, not {_describe(node.index, i)}"
                )
            return DYN
        if t.kind in ("map", "object", "dyn"):
            return t.args[1] if t.kind == "map" else DYN
        return self.issue(node, f"cannot index {_describe(node.operand, t)}")

    def _listexpr(self, node: ast.ListExpr) -> CelType:
        kinds = [self.check(i) for i in node.items]
        return list_of(kinds[0] if kinds and all(k.kind == kinds[0].kind for k in kinds) else DYN)

    def _mapexpr(self, node: ast.MapExpr) -> CelType:
        keys = [self.check(k) for k, _ in node.entries]
        values = [self.check(v) for _, v in node.entries]

        def common(ts):
            return ts[0] if ts and all(t.kind == ts[0].kind for t in ts) else DYN

        return map_of(common(keys), common(values))

    # -- calls ----------------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> CelType:
        name = node.function
        if name == "has" and node.target is None:
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Select):
                return self.issue(node, "has() takes a field selection, e.g. has(record.amount)")
            self.check(node.args[0])
            return BOOL
        if (
            name in MACROS
            and node.target is not None
            and node.args
            and isinstance(node.args[0], ast.Ident)
        ):
            return self._comprehension(node)
        fn = FUNCTIONS.get(name)
        if fn is None:
            self.issue(node, f"unknown function {name!r}{_suggest(name, FUNCTIONS)}")
            for child in ast.children(node):
                self.check(child)
            return DYN
        if node.target is not None and fn.style == "global":
            self.issue(node, f"call {name}() as {name}(x), not as x.{name}()")
        if node.target is None and fn.style == "method":
            self.issue(node, f"call {name}() on its value, e.g. x.{name}(...)")
        args = [self.check(a) for a in ((node.target,) if node.target else ()) + node.args]
        result = resolve(fn, args)
        if result is None:
            given = ", ".join(str(a) for a in args)
            return self.issue(node, f"{name}() does not accept ({given})")
        self._literal_argument(node)
        return result

    def _literal_argument(self, node: ast.Call) -> None:
        """Literal arguments of conversion functions are checked now, not when a record hits them."""
        if node.target is not None or len(node.args) != 1:
            return
        arg = node.args[0]
        if not (isinstance(arg, ast.Literal) and arg.kind == "string"):
            return
        text, name = arg.value, node.function
        if name == "duration" and not _DURATION_LITERAL.match(text):
            self.issue(
                arg,
                f"{text!r} is not a CEL duration; write e.g. '4h', '30m' or '172800s' (ISO 8601 like 'P2D' is for timers)",
            )
        elif name == "timestamp":
            try:
                ok = (
                    dt.datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
                    and "T" in text
                )
            except ValueError:
                ok = False
            if not ok:
                self.issue(
                    arg,
                    f"{text!r} is not an RFC 3339 timestamp such as '2025-01-31T00:00:00Z'; for a day use date('2025-01-31')",
                )
        elif name == "date":
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                self.issue(arg, f"{text!r} is not a date in the form '2025-01-31'")

    def _comprehension(self, node: ast.Call) -> CelType:
        name, var = node.function, node.args[0]
        target = self.check(node.target)
        if target.kind == "list":
            item = target.elem()
        elif target.kind in ("map", "object"):
            item = target.args[0] if target.kind == "map" else CelType("string")
        elif target.kind == "dyn":
            item = DYN
        else:
            self.issue(
                node, f"{name}() needs a list or a map, not {_describe(node.target, target)}"
            )
            item = DYN
        self.scopes.append({var.name: item})
        try:
            bodies = [self.check(b) for b in node.args[1:]]
        finally:
            self.scopes.pop()
        predicates = bodies if name != "map" else bodies[:-1]
        for body, b in zip(node.args[1:], predicates, strict=False):
            if b.kind not in ("bool", "dyn"):
                self.issue(body, f"the condition of {name}() must be a bool, not {b}")
        if name == "map":
            return list_of(bodies[-1] if bodies else DYN)
        if name == "filter":
            return list_of(item)
        return BOOL

    # -- operators ------------------------------------------------------------------------------

    def _unary(self, node: ast.Unary) -> CelType:
        t = self.check(node.operand)
        if node.op == "!":
            if t.kind not in ("bool", "dyn"):
                self.issue(node, f"'!' needs a bool, not {_describe(node.operand, t)}")
            return BOOL
        if t.kind in ("int", "double", "dyn"):
            return t
        return self.issue(node, f"'-' needs a number, not {_describe(node.operand, t)}")

    def _conditional(self, node: ast.Conditional) -> CelType:
        c = self.check(node.condition)
        if c.kind not in ("bool", "dyn"):
            self.issue(
                node, f"the condition before '?' must be a bool, not {_describe(node.condition, c)}"
            )
        a, b = self.check(node.then), self.check(node.otherwise)
        if a.kind == b.kind or b.kind == "null":
            return a
        return b if a.kind == "null" else DYN

    def _binary(self, node: ast.Binary) -> CelType:
        left, right = self.check(node.left), self.check(node.right)
        op = node.op
        if op in ("&&", "||"):
            for side, t, which in ((node.left, left, "left"), (node.right, right, "right")):
                if t.kind not in ("bool", "dyn"):
                    self.issue(
                        node, f"'{op}' needs a bool on the {which}, not {_describe(side, t)}"
                    )
            return BOOL
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self._compare(node, left, right)
            return BOOL
        if op == "in":
            self._membership(node, left, right)
            return BOOL
        return self._arithmetic(node, left, right)

    def _mismatch(self, node: ast.Binary, left: CelType, right: CelType, verb: str) -> None:
        self.issue(
            node,
            f"'{node.op}' cannot {verb} {_describe(node.left, left)} "
            f"with {_describe(node.right, right)}",
        )

    def _compare(self, node: ast.Binary, left: CelType, right: CelType) -> None:
        kinds = {left.kind, right.kind}
        if node.op in ("==", "!="):
            ok = (
                "dyn" in kinds
                or "null" in kinds
                or len(kinds) == 1
                or kinds <= {"int", "uint", "double"}
            )
            ok = ok or kinds == {"map", "object"}
        elif "null" in kinds:
            return self._mismatch(node, left, right, "order") if "dyn" not in kinds else None
        else:
            ok = "dyn" in kinds or kinds <= {"int", "uint", "double"}
            ok = ok or (len(kinds) == 1 and left.kind in _ORDERED)
        if not ok:
            return self._mismatch(node, left, right, "compare")
        self._option(node.right, left, node.left)
        self._option(node.left, right, node.right)
        return None

    def _option(self, literal: ast.Node, t: CelType, other: ast.Node) -> None:
        if not (t.options and isinstance(literal, ast.Literal) and literal.kind == "string"):
            return
        if literal.value not in t.options:
            self.issue(
                literal,
                f"{literal.value!r} is not an option of {text_of(other)} "
                f"({', '.join(t.options)}){_suggest(literal.value, t.options)}",
            )

    def _membership(self, node: ast.Binary, left: CelType, right: CelType) -> None:
        if right.kind == "list":
            elem = right.elem()
            if not self._equatable(left, elem):
                self._mismatch(node, left, right, "look for")
            if isinstance(node.right, ast.ListExpr):
                for item in node.right.items:
                    self._option(item, left, node.left)
        elif right.kind in ("map", "object"):
            key = right.args[0] if right.kind == "map" else CelType("string")
            if not self._equatable(left, key):
                self._mismatch(node, left, right, "look for")
        elif right.kind != "dyn":
            self.issue(
                node, f"'in' needs a list or a map on the right, not {_describe(node.right, right)}"
            )

    @staticmethod
    def _equatable(a: CelType, b: CelType) -> bool:
        kinds = {a.kind, b.kind}
        return (
            "dyn" in kinds
            or "null" in kinds
            or len(kinds) == 1
            or kinds <= {"int", "uint", "double"}
        )

    def _arithmetic(self, node: ast.Binary, left: CelType, right: CelType) -> CelType:
        op, lk, rk = node.op, left.kind, right.kind
        if "dyn" in (lk, rk):
            return DYN
        if left.numeric and right.numeric:
            if lk != rk:
                return self._mix(node, left, right)
            if op == "%" and lk == "double":
                return self.issue(node, "'%' works on int values only")
            return CelType(lk)
        table = {
            ("+", "string", "string"): left,
            ("+", "bytes", "bytes"): left,
            ("+", "timestamp", "duration"): TIMESTAMP,
            ("+", "duration", "timestamp"): TIMESTAMP,
            ("+", "duration", "duration"): DURATION,
            ("-", "timestamp", "timestamp"): DURATION,
            ("-", "timestamp", "duration"): TIMESTAMP,
            ("-", "duration", "duration"): DURATION,
        }
        if (op, lk, rk) in table:
            return CelType(table[(op, lk, rk)].kind)
        if op == "+" and lk == rk == "list":
            return left if left.elem().kind == right.elem().kind else list_of(DYN)
        self._mismatch(node, left, right, "combine")
        return DYN

    def _mix(self, node: ast.Binary, left: CelType, right: CelType) -> CelType:
        hint = ""
        for side, t in ((node.left, left), (node.right, right)):
            if isinstance(side, ast.Literal) and side.kind == "int" and t.kind == "int":
                hint = f"; write {side.value}.0 instead of {side.value}"
        self.issue(
            node,
            f"'{node.op}' cannot mix {_describe(node.left, left)} and "
            f"{_describe(node.right, right)}: CEL never converts between int and double"
            f"{hint or '; convert one side with double(...) or int(...)'}",
        )
        return CelType("double")


def variable_uses(node: ast.Node) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """The variables an expression reads, each with the fields it reads of it (``x.f``,
    ``x['f']``), or None when it uses the variable otherwise (as a whole, by a computed key,
    in a macro...). Names bound by macros count too: a superset is harmless."""
    selected: dict[int, str] = {}
    for n in ast.walk(node):
        if isinstance(n, ast.Select) and isinstance(n.operand, ast.Ident):
            selected[id(n.operand)] = n.field
        elif (
            isinstance(n, ast.Index)
            and isinstance(n.operand, ast.Ident)
            and isinstance(n.index, ast.Literal)
            and n.index.kind == "string"
        ):
            selected[id(n.operand)] = n.index.value
    uses: dict[str, set[str] | None] = {}
    for n in ast.walk(node):
        if not isinstance(n, ast.Ident):
            continue
        field = selected.get(id(n))
        if field is None:
            uses[n.name] = None
        elif n.name not in uses:
            uses[n.name] = {field}
        elif uses[n.name] is not None:
            uses[n.name].add(field)
    return tuple(
        (name, None if fields is None else frozenset(fields))
        for name, fields in sorted(uses.items())
    )


def record_fields(node: ast.Node, record: str = "record") -> frozenset[str]:
    """The fields of ``record`` an expression reads (``record.x``, ``record['x']``)."""
    out = set()
    for n in ast.walk(node):
        if (
            isinstance(n, ast.Select)
            and isinstance(n.operand, ast.Ident)
            and n.operand.name == record
        ):
            out.add(n.field)
        elif (
            isinstance(n, ast.Index)
            and isinstance(n.operand, ast.Ident)
            and n.operand.name == record
            and isinstance(n.index, ast.Literal)
            and n.index.kind == "string"
        ):
            out.add(n.index.value)
    return frozenset(out)
