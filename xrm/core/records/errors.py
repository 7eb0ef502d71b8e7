"""Record errors; each maps to one HTTP status."""

from __future__ import annotations


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
