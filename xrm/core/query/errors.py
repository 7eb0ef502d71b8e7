"""Errors of the query runner.

An invalid query is the caller's mistake, so every error here is a 400 with a message that names
the query parameter and, where they apply, the field, the operator and the value. They subclass
:class:`~xrm.core.records.errors.RecordError`, so the web layer renders them like every other
record error (``application/problem+json`` with a problem list).
"""

from __future__ import annotations

from typing import Any

from ..records.errors import RecordError


class InvalidQuery(RecordError):
    """A query string that cannot be run as given."""

    status = 400
    title = "Invalid query"

    def __init__(
        self,
        message: str,
        *,
        parameter: str | None = None,
        field: str | None = None,
        operator: str | None = None,
        value: Any = None,
    ):
        self.parameter = parameter
        self.field = field
        self.operator = operator
        self.value = value
        problem: dict[str, Any] = {"message": message}
        for key, item in (
            ("parameter", parameter),
            ("field", field),
            ("operator", operator),
            ("value", value),
        ):
            if item is not None:
                problem[key] = item
        text = f"{parameter}: {message}" if parameter else message
        super().__init__(text, [problem])


class FieldNotReadable(InvalidQuery):
    """The query names a field that the caller may not read (filter, sort, select, expand)."""

    title = "Field not readable"


class InvalidCursor(InvalidQuery):
    """A ``cursor`` that was not issued for this query, or was altered."""

    title = "Invalid cursor"
