"""Typed outcomes a handler can raise, and the errors of the jobs' administration.

A handler that raises :class:`RetryableError` (or any exception it did not foresee) is tried
again later with exponential backoff; :class:`PermanentError` sends the message straight to the
dead letters, because trying again cannot help (a 404 from a webhook, an unknown action type).
"""

from __future__ import annotations


class RetryableError(Exception):
    """Try again later; ``retry_after`` (seconds) overrides the backoff (e.g. HTTP Retry-After)."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Trying again cannot succeed: the message goes to the dead letters at once."""


class JobError(Exception):
    """An administration request on jobs that cannot be served."""

    status = 400
    title = "Bad Request"


class JobNotFound(JobError):
    status = 404
    title = "Not Found"


class JobStateConflict(JobError):
    """The job is not in a state that allows the request (retrying a delivered job...)."""

    status = 409
    title = "Conflict"


class JobConfigError(ValueError):
    """A jobs setting has a value the platform cannot use; names the setting."""
