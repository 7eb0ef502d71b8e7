"""The values of a query as named bind parameters, so its SQL can be built once and run again.

While a plan is built for the plan cache (:mod:`.plans`), each filter value becomes a bind
parameter ``_v0``, ``_v1``... and the function that computed it from its condition is kept: a
later query of the same shape runs the same functions on its own conditions (found at the same
place in its filter) and sends the results as the parameters' values. The functions are the
ones the builder uses (the field type's coercion, the like-pattern translation), so a value is
checked and converted exactly as when the SQL is built anew, and refused with the same error.

A condition whose SQL depends on its value (``is.null``, ``cs.{...}``, money, a value that
converts to None, ...) is noted as literal instead: its value then goes into the cache key. A
cached plan whose parameter would be None for another query is not used for that query (see
:meth:`.plans.CachedPlan.parameters`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from .nodes import Condition, Group


def conditions(node: Condition | Group) -> Iterator[Condition]:
    """The conditions of a filter, depth first, in the order they are written."""
    if isinstance(node, Condition):
        yield node
        return
    for item in node.items:
        yield from conditions(item)


class Binds:
    """Bind parameters of a plan being built, and how to compute their values again."""

    def __init__(self, conds: list[Condition]):
        self._index = {id(c): i for i, c in enumerate(conds)}
        #: (parameter name, index of its condition, function of the condition -> value)
        self.extractors: list[tuple[str, int, Callable[[Condition], Any]]] = []
        #: the values of the query the plan is built for, by parameter name
        self.values: dict[str, Any] = {}
        #: indexes of the conditions whose value is part of the SQL
        self.literals: set[int] = set()

    def add(
        self,
        cond: Condition,
        compute: Callable[[Condition], Any],
        value: Any,
        type_: Any,
        expanding: bool = False,
    ) -> Any:
        """A bind parameter for ``value`` (or ``value`` itself, noted as literal, when it is
        None: ``col == None`` is ``IS NULL``, which a parameter would not be)."""
        if value is None and not expanding:
            self.literal(cond)
            return value
        name = f"_v{len(self.extractors)}"
        self.extractors.append((name, self._index[id(cond)], compute))
        self.values[name] = value
        return sa.bindparam(name, type_=type_, expanding=expanding, required=True)

    def literal(self, cond: Condition) -> None:
        self.literals.add(self._index[id(cond)])
