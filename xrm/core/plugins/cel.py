"""Functions a plugin adds to the expression language (``xrm_cel_functions``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...workflow.expressions.functions import Function as CelFunction
from ...workflow.expressions.types import prim

KINDS = ("int", "uint", "double", "string", "bool", "bytes", "timestamp", "duration", "dyn")


def cel_function(
    name: str,
    args: Sequence[str],
    returns: str,
    impl: Callable[..., Any],
    *,
    doc: str = "",
    style: str = "global",
) -> CelFunction:
    """A function with one overload: ``cel_function("vatRate", ["string"], "double",
    impl=lambda country: 0.19)``. ``args`` and ``returns`` are CEL kinds (``int``, ``double``,
    ``string``, ``bool``, ``timestamp``, ``duration``, ``dyn``...; an argument may also be
    ``num``, ``any``, ``list`` or ``map``); ``style`` is ``global`` (``f(x)``), ``method``
    (``x.f()``) or ``both``. For several overloads build a :class:`CelFunction` directly."""
    if returns not in KINDS:
        raise ValueError(
            f"CEL function {name!r}: unknown return kind {returns!r}; one of {', '.join(KINDS)}"
        )
    return CelFunction(name, ((tuple(args), prim(returns)),), style=style, impl=impl, doc=doc)


__all__ = ["CelFunction", "cel_function"]
