"""Lexical rules of query-string values: acceptable text, comma-separated items that respect
double quotes and brackets, and unquoting."""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidQuery


def check_text(text: Any, parameter: str) -> None:
    """Text both databases can take: a string, valid Unicode, no NUL character."""
    if not isinstance(text, str):
        raise InvalidQuery(f"expected text, got {type(text).__name__}", parameter=str(parameter))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuery("is not valid Unicode text", parameter=parameter) from None
    if "\x00" in text:
        raise InvalidQuery("may not contain a NUL character", parameter=parameter)


def split_top(text: str, parameter: str) -> list[str]:
    """Split on commas that are outside double quotes, parentheses and braces."""
    parts: list[str] = []
    buf: list[str] = []
    depth = 0
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if quoted:
            buf.append(c)
            if c == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
            buf.append(c)
        elif c in "({":
            depth += 1
            buf.append(c)
        elif c in ")}":
            depth -= 1
            if depth < 0:
                raise InvalidQuery(f"unbalanced {c!r} in {text!r}", parameter=parameter)
            buf.append(c)
        elif c == "," and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    if quoted:
        raise InvalidQuery(f"unterminated double quote in {text!r}", parameter=parameter)
    if depth:
        raise InvalidQuery(f"unbalanced parentheses in {text!r}", parameter=parameter)
    parts.append("".join(buf))
    return parts


def unquote(text: str) -> str:
    """``"a, b"`` -> ``a, b`` (``\\"`` and ``\\\\`` escape); unquoted text as it is."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)
    return text
