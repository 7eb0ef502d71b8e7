"""Keyset paging: a stable order, the predicate "after this row", and the cursor token.

The order always ends with ``id``, so it is total and every row has exactly one place. The next
page is "rows after the last row of this page" in that order, a WHERE clause the database can
answer from an index, so page 10,000 costs what page 1 costs (no OFFSET). NULLs are placed
explicitly (``NULLS FIRST``/``NULLS LAST``) and the predicate follows the same placement, so
both databases agree on where NULLs go and no row is skipped or repeated at a NULL boundary.

The cursor is base64url(JSON) plus an HMAC: it carries the last row's order values and a
fingerprint of the entity, order and filter it was issued for. It is opaque to clients and
tamper-evident; a cursor cannot widen what the query may return (filters and scopes are
applied again on every page), it can only move the position.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ...metadata.compiler import CompiledEntity
from .errors import InvalidCursor, InvalidQuery
from .fields import FieldRef, QueryContext
from .nodes import SortTerm


@dataclass(frozen=True)
class SortKey:
    """One column of the total order."""

    ref: FieldRef
    descending: bool
    nulls_first: bool

    @property
    def column(self) -> sa.Column:
        return self.ref.column

    @property
    def nullable(self) -> bool:
        return bool(self.column.nullable) and not self.column.primary_key

    def order_by(self):
        col = self.column
        clause = col.desc() if self.descending else col.asc()
        if not self.nullable:
            return clause
        return clause.nulls_first() if self.nulls_first else clause.nulls_last()


def sort_keys(ce: CompiledEntity, order: Sequence[SortTerm], ctx: QueryContext) -> list[SortKey]:
    """The requested order, checked, with ``id`` appended as the final tie-break."""
    keys: list[SortKey] = []
    for term in order:
        ref = ctx.field(ce, term.field, parameter="order")
        if ref.name not in ce.sortable:
            raise InvalidQuery(
                f"{ce.name}.{ref.name} ({ref.spec.type}) cannot be sorted on",
                parameter="order",
                field=ref.name,
            )
        keys.append(SortKey(ref, term.descending, term.nulls_come_first))
        if ref.name == "id":
            return keys  # unique: later terms could never decide anything
    keys.append(SortKey(ctx.field(ce, "id", parameter="order"), False, False))
    return keys


def after(keys: Sequence[SortKey], values: Sequence[Any], *, bound: bool = False) -> list[Any]:
    """WHERE clauses of the rows strictly after the row whose order values are ``values``.

    The rows after a position are (k1 after v1) OR (k1 = v1 AND k2 after v2) OR ..., with "="
    null-safe and "after" aware of each key's direction and NULL placement. An OR like that
    gives the database no range to start an index scan at, so the first key also gets a
    redundant bound (``k1 >= v1``). When NULLs of the first key come last, the rows after a
    non-NULL position are two ranges of the index: ``k1 >= v1``, then ``k1 IS NULL``. They are
    returned as two consecutive segments (every row of the first sorts before every row of the
    second); the runner reads the second only when the first does not fill the page.

    ``bound``: the non-NULL values become bind parameters named by :func:`after_parameters`
    (for a cached plan: the SQL depends only on which values are NULL).
    """
    # One typed parameter per value, used wherever the value is (a bool needs the type:
    # SQLAlchemy refuses ``col > True`` written with a plain bool).
    params = [
        None
        if value is None
        else sa.bindparam(f"_after{i}", type_=key.column.type, required=True)
        if bound
        else sa.literal(value, key.column.type)
        for i, (key, value) in enumerate(zip(keys, values, strict=True))
    ]
    alternatives = []
    equal: list[Any] = []
    for key, param in zip(keys, params, strict=True):
        beyond = _beyond(key, param)
        if beyond is not None:
            alternatives.append(sa.and_(*equal, beyond))
        equal.append(key.column.is_(None) if param is None else key.column == param)
    clause = sa.or_(*alternatives) if alternatives else sa.false()
    first, param = keys[0], params[0]
    if param is None or len(keys) == 1:
        return [clause]
    limit = first.column <= param if first.descending else first.column >= param
    if first.nulls_first or not first.nullable:
        return [sa.and_(limit, clause)]
    return [sa.and_(limit, clause), first.column.is_(None)]


def after_parameters(values: Sequence[Any]) -> dict[str, Any]:
    """The bind parameters of ``after(keys, values, bound=True)``."""
    return {f"_after{i}": v for i, v in enumerate(values) if v is not None}


def _beyond(key: SortKey, param: Any):
    col = key.column
    if param is None:
        # NULLs first: every non-NULL comes after. NULLs last: nothing does.
        return col.is_not(None) if key.nulls_first else None
    past = col < param if key.descending else col > param
    if key.nullable and not key.nulls_first:
        return sa.or_(past, col.is_(None))
    return past


# -- the cursor token -----------------------------------------------------------------------------


def fingerprint(*parts: Any) -> str:
    """A short digest binding a cursor to the query that issued it."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode_cursor(values: Sequence[Any], query_fingerprint: str, secret: bytes = b"") -> str:
    payload = json.dumps(
        {"v": [_encode_value(v) for v in values], "q": query_fingerprint},
        separators=(",", ":"),
        allow_nan=False,
    ).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(signature)}"


def decode_cursor(
    token: str, keys: Sequence[SortKey], query_fingerprint: str, secret: bytes = b""
) -> list[Any]:
    """The order values a cursor carries, typed like the key columns; InvalidCursor if the
    token is damaged, altered, or was issued for another entity, order or filter."""
    try:
        body, signature = token.split(".")
        payload = _unb64(body)
        expected = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
        valid = hmac.compare_digest(expected, _unb64(signature))
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise InvalidCursor(
            "the cursor is damaged or was altered; use the next_cursor of a page as it is",
            parameter="cursor",
        )
    try:
        data = json.loads(payload)
        values, issued_for = data["v"], data["q"]
        if issued_for != query_fingerprint:
            raise InvalidCursor(
                "the cursor belongs to a query with another order or filter; start again "
                "without a cursor",
                parameter="cursor",
            )
        if len(values) != len(keys):
            raise ValueError("wrong number of values")
        return [_decode_value(k.column, v) for k, v in zip(keys, values, strict=True)]
    except InvalidCursor:
        raise
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise InvalidCursor(
            "the cursor does not fit this entity any more; start again without a cursor",
            parameter="cursor",
        ) from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def _decode_value(col: sa.Column, raw: Any) -> Any:
    if raw is None:
        return None
    kind = col.type.python_type
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(_expect(raw, str))
    if kind is dt.date:
        return dt.date.fromisoformat(_expect(raw, str))
    if kind is Decimal:
        number = Decimal(_expect(raw, str))
        if not number.is_finite():
            raise ValueError("not a finite number")
        return number
    if kind is uuid.UUID:
        return uuid.UUID(_expect(raw, str))
    if kind is float:
        if isinstance(raw, bool):
            raise TypeError("expected a number")
        number = float(_expect(raw, int | float))
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        return number
    if kind is bool:
        return _expect(raw, bool)
    if kind is int:
        if isinstance(raw, bool):
            raise TypeError("expected an integer")
        return _expect(raw, int)
    return _expect(raw, str)


def _expect(value: Any, kind: Any) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind}")
    return value
