"""Resolve field names against an entity, with the caller's visibility applied.

A :class:`QueryContext` is what one query runs under: the metadata snapshot, the permission
scope of each entity (an SQLAlchemy WHERE clause on that entity's table) and the fields each
entity hides from the caller. Every name a query uses, in a filter, a sort, a select or an
expansion, is looked up here, so a hidden field is refused the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.fieldtypes import FIELD_TYPES, FieldType
from ...metadata.model import FieldSpec
from .binds import Binds
from .errors import FieldNotReadable, InvalidQuery
from .nodes import Condition

#: The system columns a caller may see, as field specs of ordinary types (``deleted_at`` stays
#: internal: soft-deleted rows are never returned, so it would always be null).
SYSTEM_FIELDS: Mapping[str, FieldSpec] = {
    "id": FieldSpec(name="id", type="bigint", label="Id", readonly=True),
    "created_at": FieldSpec(name="created_at", type="datetime", label="Created at", readonly=True),
    "created_by": FieldSpec(name="created_by", type="integer", label="Created by", readonly=True),
    "updated_at": FieldSpec(name="updated_at", type="datetime", label="Updated at", readonly=True),
    "updated_by": FieldSpec(name="updated_by", type="integer", label="Updated by", readonly=True),
    "owner_id": FieldSpec(name="owner_id", type="integer", label="Owner"),
    "row_version": FieldSpec(
        name="row_version", type="integer", label="Row version", readonly=True
    ),
}


@dataclass(frozen=True)
class FieldRef:
    """A field of one entity, resolved and known to be readable."""

    entity: CompiledEntity
    name: str
    spec: FieldSpec
    type: FieldType
    columns: tuple[str, ...]
    system: bool = False

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def is_reference(self) -> bool:
        return self.spec.type == "reference"

    @property
    def is_link(self) -> bool:
        """A many-to-many field: its values live in an association table."""
        return self.type.association

    @property
    def column(self) -> sa.Column:
        """The single column of the field (multi-column fields use :attr:`columns`)."""
        return self.entity.table.c[self.columns[0]]


@dataclass(frozen=True)
class QueryContext:
    """What one query runs under: snapshot, scopes, hidden fields, SQL dialect.

    ``binds``: set while a plan is built for the plan cache (:mod:`.plans`): the values of the
    filter then become named bind parameters, and every entity whose scope or hidden fields the
    plan depends on is noted in ``touched``."""

    snapshot: MetadataSnapshot
    scopes: Mapping[str, sa.ColumnElement[bool]] = field(default_factory=dict)
    hidden: Mapping[str, Collection[str]] = field(default_factory=dict)
    dialect: str = "sqlite"
    binds: Binds | None = None
    touched: set[str] = field(default_factory=set, compare=False)

    def visible(self, ce: CompiledEntity) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses every read of ``ce`` carries: not soft-deleted, inside the scope."""
        self.touched.add(ce.name)
        clauses = [ce.table.c.deleted_at.is_(None)]
        scope = self.scopes.get(ce.name)
        if scope is not None:
            clauses.append(scope)
        return clauses

    def is_hidden(self, ce: CompiledEntity, name: str) -> bool:
        """Whether ``name`` is hidden from the caller (``id`` never is: records need it)."""
        self.touched.add(ce.name)
        return name != "id" and name in self.hidden.get(ce.name, ())

    def value(
        self,
        cond: Condition,
        compute: Callable[[Condition], Any],
        type_: Any,
        *,
        expanding: bool = False,
    ) -> Any:
        """The value of ``cond`` for SQL: ``compute(cond)`` (which raises InvalidQuery for a
        value the field cannot take); while a cached plan is built, a bind parameter that
        ``compute`` fills in again for each query run with the plan."""
        value = compute(cond)
        if self.binds is None:
            return value
        return self.binds.add(cond, compute, value, type_, expanding)

    def uses_value(self, cond: Condition) -> None:
        """The SQL built for ``cond`` depends on its value itself (``is.null``, ``cs``, money,
        ...): a cached plan is then kept per value of ``cond``."""
        if self.binds is not None:
            self.binds.literal(cond)

    def scope_key(self, name: str) -> Hashable:
        """What the scope of entity ``name`` puts in a cached plan: None without a scope,
        else the clause's SQLAlchemy cache key with its bound values (the same key and values
        make the same SQL)."""
        clause = self.scopes.get(name)
        if clause is None:
            return None
        found = clause._generate_cache_key()
        if found is None:
            raise TypeError("a scope clause without a cache key cannot be cached")
        return (found.key, tuple(_frozen(b.effective_value) for b in found.bindparams))

    def field(self, ce: CompiledEntity, name: str, *, parameter: str) -> FieldRef:
        """The readable field ``name`` of ``ce``; unknown and hidden names are refused."""
        cf = ce.fields.get(name)
        if cf is not None:
            ref = FieldRef(ce, name, cf.spec, cf.type, cf.columns)
        elif name in SYSTEM_FIELDS:
            spec = SYSTEM_FIELDS[name]
            ref = FieldRef(ce, name, spec, FIELD_TYPES[spec.type], (name,), system=True)
        else:
            raise InvalidQuery(f"{ce.name} has no field {name!r}", parameter=parameter, field=name)
        if self.is_hidden(ce, name):
            raise FieldNotReadable(
                f"field {name!r} of {ce.name} is not readable for you",
                parameter=parameter,
                field=name,
            )
        return ref

    def readable_fields(self, ce: CompiledEntity) -> list[FieldRef]:
        """Every field a caller may read, in the order records show them: ``id``, the entity's
        fields in definition order, then the other system fields."""
        names = ["id", *ce.fields, *(n for n in SYSTEM_FIELDS if n != "id")]
        return [self.field(ce, n, parameter="select") for n in names if not self.is_hidden(ce, n)]

    def target(self, ref: FieldRef) -> CompiledEntity:
        """The entity a reference or many-to-many field points to."""
        return self.snapshot.entity(ref.spec.opt("target"))


def _frozen(value: Any) -> Hashable:
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(v) for v in value)
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value
