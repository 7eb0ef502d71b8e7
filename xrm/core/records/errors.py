"""Record errors; each maps to one HTTP status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...metadata.validation import pointer


class RecordError(Exception):
    status = 400
    title = "Record error"

    def __init__(self, message: str, problems: list[dict] | None = None):
        self.problems = problems or []
        super().__init__(message)


class RecordInvalid(RecordError):
    status = 422
    title = "Invalid record"


class RecordNotFound(RecordError):
    status = 404
    title = "Record not found"


class RecordConflict(RecordError):
    status = 409
    title = "Conflict"


class RecordVersionMismatch(RecordError):
    status = 412
    title = "Precondition failed"


def field_problem(field: str, message: str, *at: str | int) -> dict[str, str]:
    """One entry of an error's ``problems`` (the ``errors`` of its problem details): the JSON
    pointer (RFC 6901) of the value at fault - ``/<field>``, or an item inside it with ``at``
    (``/roles/2``) - the field, and what is wrong."""
    return {"pointer": pointer(field, *at), "field": field, "message": message}


def invalid(
    error: type[RecordInvalid], subject: str, problems: Sequence[dict[str, Any]]
) -> RecordInvalid:
    """One ``error`` (a 422) for every problem of a request body, its message listing them:
    ``invalid <subject>: <message>; <message>``."""
    return error(f"invalid {subject}: {'; '.join(p['message'] for p in problems)}", list(problems))


def batch_refused(refused: list[tuple[int, RecordError]], total: int) -> RecordError:
    """One error for the refused records of an all-or-nothing batch: of the first one's class
    (its HTTP status), naming it, with every refused record's problems, each carrying the
    record's ``index`` in the batch."""
    first_index, first = refused[0]
    problems = []
    for index, exc in refused:
        problems += [{**p, "index": index} for p in exc.problems] or [
            {"index": index, "message": str(exc)}
        ]
    if total == 1:
        message = str(first)
    else:
        message = f"{len(refused)} of {total} records refused; record {first_index}: {first}"
    error = type(first).__new__(type(first))
    RecordError.__init__(error, message, problems)
    return error


def refusal(exc: Exception) -> str:
    """The database's reason for refusing a write (a constraint), for a user to read."""
    orig = getattr(exc, "orig", None)
    reason = str(orig).splitlines()[0] if orig else "a constraint was violated"
    return f"the database refused the record: {reason}"
