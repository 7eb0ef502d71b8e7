"""The parsed form of a query string: plain frozen data, no metadata, no SQL.

:mod:`.grammar` builds these from query-string pairs; :mod:`.builder` resolves them against an
entity and turns them into SQL. Every node remembers the parameter it came from, so errors found
later (an unknown field, a value of the wrong type) can still name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Operators, by their canonical name. ``cs`` is accepted as the PostgREST spelling of contains.
OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "like", "ilike", "is", "contains")
OPERATOR_ALIASES = {"cs": "contains"}
IS_VALUES = ("null", "not_null", "true", "false")


@dataclass(frozen=True)
class Condition:
    """``path`` ``op`` ``value``, e.g. ``account.name=ilike.*acme*``.

    ``path`` has one name per hop: ``("account", "name")`` filters on the name of the referenced
    account. ``value`` is the raw text, or a tuple of raw texts for ``in`` and ``contains``.
    ``negated`` is ``not.``; on a path it negates the test on the last hop.
    """

    path: tuple[str, ...]
    op: str
    value: str | tuple[str, ...]
    negated: bool
    parameter: str

    @property
    def field(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Group:
    """``and``/``or`` of conditions and groups; the root filter is an ``and`` group."""

    kind: Literal["and", "or"]
    items: tuple[Condition | Group, ...]
    negated: bool = False
    parameter: str = ""


@dataclass(frozen=True)
class SortTerm:
    """One ``order`` term. ``nulls_first`` None means the default: NULLs sort as the largest
    value, so last in ascending and first in descending order (PostgreSQL's own default)."""

    field: str
    descending: bool = False
    nulls_first: bool | None = None

    @property
    def nulls_come_first(self) -> bool:
        return self.descending if self.nulls_first is None else self.nulls_first


@dataclass(frozen=True)
class SelectItem:
    """A selected field; ``children`` is set when the field is expanded, e.g. ``account(name)``.
    ``name`` ``*`` stands for every readable field."""

    name: str
    children: tuple[SelectItem, ...] | None = None


@dataclass(frozen=True)
class Query:
    """A whole parsed query string."""

    filter: Group
    order: tuple[SortTerm, ...] = ()
    select: tuple[SelectItem, ...] | None = None
    limit: int | None = None
    cursor: str | None = None
    count: bool = False
