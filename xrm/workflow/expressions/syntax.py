"""A small parser for CEL, used only for static analysis.

The CEL binding compiles and runs expressions but exposes no syntax tree and no type checker, so
the workflow engine parses the source a second time into the light AST below, after the binding
has accepted it: the binding stays the judge of syntax, this parser only has to understand what
the binding accepted. Constructs it does not know (message literals, optional syntax) raise
:class:`Unsupported`; the caller then skips the type check for that expression instead of
guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Expressions are short formulas; a bound keeps parsing and recursion cheap.
MAX_SOURCE_LENGTH = 4000
MAX_DEPTH = 100


class Unsupported(Exception):
    """The source uses CEL syntax this analyser does not model."""

    def __init__(self, message: str, pos: int = 0):
        self.pos = pos
        super().__init__(message)


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Literal(Node):
    value: Any
    kind: str  # int, uint, double, string, bytes, bool, null


@dataclass(frozen=True)
class Ident(Node):
    name: str


@dataclass(frozen=True)
class Select(Node):
    operand: Node
    field: str


@dataclass(frozen=True)
class Index(Node):
    operand: Node
    index: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    target: Node | None
    args: tuple[Node, ...]


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class MapExpr(Node):
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node


# -- tokens -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<double>(?:[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|\.[0-9]+(?:[eE][+-]?[0-9]+)?))
  | (?P<hex>0[xX][0-9a-fA-F]+[uU]?)
  | (?P<int>[0-9]+[uU]?)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:'''|\"\"\"|'|\"))
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%!<>?:.,\[\](){}])
    """,
    re.VERBOSE,
)
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "?": "?",
}
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-3][0-7]{2}|.)", re.S)


@dataclass(frozen=True)
class Token:
    kind: str  # literal kinds, ident, op, eof
    value: Any
    pos: int


def _unescape(text: str) -> str:
    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "xuU":
            return chr(int(e[1:], 16))
        if e[0].isdigit():
            return chr(int(e, 8))
        return _ESCAPES.get(e, e)

    return _ESCAPE.sub(one, text)


def _string(source: str, pos: int, opening: str) -> tuple[Token, int]:
    prefix = opening.rstrip("'\"").lower()
    quote = opening[len(prefix) :]
    start = pos + len(opening)
    i = start
    while i < len(source):
        if source.startswith(quote, i):
            raw = source[start:i]
            text = raw if "r" in prefix else _unescape(raw)
            kind = "bytes" if "b" in prefix else "string"
            return Token(kind, text.encode() if kind == "bytes" else text, pos), i + len(quote)
        i += 2 if source[i] == "\\" and "r" not in prefix else 1
    raise Unsupported("unterminated string", pos)


def tokenize(source: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise Unsupported(f"unexpected character {source[pos]!r}", pos)
        kind, text = m.lastgroup, m.group()
        if kind == "string":
            token, pos = _string(source, pos, text)
            tokens.append(token)
            continue
        if kind == "double":
            tokens.append(Token("double", float(text), pos))
        elif kind in ("int", "hex"):
            unsigned = text[-1] in "uU"
            digits = text.rstrip("uU")
            value = int(digits, 16) if kind == "hex" else int(digits)
            tokens.append(Token("uint" if unsigned else "int", value, pos))
        elif kind == "ident":
            if text in ("true", "false"):
                tokens.append(Token("bool", text == "true", pos))
            elif text == "null":
                tokens.append(Token("null", None, pos))
            elif text == "in":
                tokens.append(Token("op", "in", pos))
            else:
                tokens.append(Token("ident", text, pos))
        elif kind == "op":
            tokens.append(Token("op", text, pos))
        pos = m.end()
    tokens.append(Token("eof", None, len(source)))
    return tokens


# -- parser -------------------------------------------------------------------------------------

_RELATIONS = ("<", "<=", ">=", ">", "==", "!=", "in")
_LITERALS = ("int", "uint", "double", "string", "bytes", "bool", "null")


class _Parser:
    def __init__(self, source: str):
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def expect(self, op: str) -> Token:
        if not self.at(op):
            raise Unsupported(f"expected {op!r}", self.tok.pos)
        return self.take()

    def parse(self) -> Node:
        node = self.expr()
        if self.tok.kind != "eof":
            raise Unsupported("unexpected input", self.tok.pos)
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unsupported("expression nested too deeply", self.tok.pos)
        cond = self.binary(0)
        if self.at("?"):
            q = self.take()
            then = self.binary(0)
            self.expect(":")
            cond = Conditional(q.pos, cond, then, self.expr())
        self.depth -= 1
        return cond

    _LEVELS = (("||",), ("&&",), _RELATIONS, ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.at(*self._LEVELS[level]):
            op = self.take()
            node = Binary(op.pos, op.value, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        if self.at("!", "-"):
            op = self.take()
            operand = self.unary()
            if (
                op.value == "-"
                and isinstance(operand, Literal)
                and operand.kind in ("int", "double")
            ):
                return Literal(op.pos, -operand.value, operand.kind)
            return Unary(op.pos, op.value, operand)
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.at("."):
                self.take()
                name = self.take()
                if name.kind != "ident":
                    raise Unsupported("expected a name", name.pos)
                if self.at("("):
                    node = Call(name.pos, name.value, node, self.arguments(")"))
                else:
                    node = Select(name.pos, node, name.value)
            elif self.at("["):
                bracket = self.take()
                index = self.expr()
                self.expect("]")
                node = Index(bracket.pos, node, index)
            elif self.at("{"):
                raise Unsupported(
                    "message literals (Type{field: value}) are not supported", self.tok.pos
                )
            else:
                return node

    def arguments(self, close: str) -> tuple[Node, ...]:
        self.take()  # the opening bracket
        items: list[Node] = []
        while not self.at(close):
            items.append(self.expr())
            if not self.at(close):
                self.expect(",")
        self.take()
        return tuple(items)

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind in _LITERALS:
            self.take()
            return Literal(tok.pos, tok.value, tok.kind)
        if self.at("."):
            self.take()  # leading dot: root-scoped name, same meaning here
            tok = self.tok
        if tok.kind == "ident":
            self.take()
            if self.at("("):
                return Call(tok.pos, tok.value, None, self.arguments(")"))
            return Ident(tok.pos, tok.value)
        if self.at("("):
            self.take()
            node = self.expr()
            self.expect(")")
            return node
        if self.at("["):
            return ListExpr(tok.pos, self.arguments("]"))
        if self.at("{"):
            self.take()
            entries = []
            while not self.at("}"):
                key = self.expr()
                self.expect(":")
                entries.append((key, self.expr()))
                if not self.at("}"):
                    self.expect(",")
            self.take()
            return MapExpr(tok.pos, tuple(entries))
        raise Unsupported("unexpected token", tok.pos)


def parse(source: str) -> Node:
    """Parse CEL source into the analysis AST; raise :class:`Unsupported` when it cannot."""
    if len(source) > MAX_SOURCE_LENGTH:
        raise Unsupported("expression too long to analyse")
    try:
        tree = _Parser(source).parse()
    except RecursionError:
        raise Unsupported("expression nested too deeply") from None
    if depth(tree) > MAX_DEPTH:
        # Long operator chains nest as deeply as parentheses; the checker recurses over them.
        raise Unsupported(f"expression nested more than {MAX_DEPTH} levels deep")
    return tree


def depth(node: Node) -> int:
    """The depth of a tree, computed without recursion."""
    deepest, todo = 0, [(node, 1)]
    while todo:
        n, d = todo.pop()
        deepest = max(deepest, d)
        todo.extend((c, d + 1) for c in children(n))
    return deepest


def line_column(source: str, pos: int) -> tuple[int, int]:
    """1-based line and column of an offset, as CEL reports them."""
    line = source.count("\n", 0, pos) + 1
    return line, pos - (source.rfind("\n", 0, pos) + 1) + 1


def walk(node: Node):
    """Every node of a tree, parents first."""
    yield node
    for child in children(node):
        yield from walk(child)


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Select | Unary):
        return (node.operand,)
    if isinstance(node, Index):
        return (node.operand, node.index)
    if isinstance(node, Call):
        return ((node.target,) if node.target else ()) + node.args
    if isinstance(node, ListExpr):
        return node.items
    if isinstance(node, MapExpr):
        return tuple(x for pair in node.entries for x in pair)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Conditional):
        return (node.condition, node.then, node.otherwise)
    return ()
