"""SQLite's busy snapshot: a deferred transaction that read before another connection committed
cannot write (``database is locked`` at once; the busy timeout does not apply). The request's
transaction has rolled back entirely when this surfaces, so the request is run again, a few
times, instead of answering 500 (uploaded files rewound, so an import reads its whole file
again). PostgreSQL never raises it; other errors pass through."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, has_request_context, request

ATTEMPTS = 5


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


def retry_when_busy(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return view(*args, **kwargs)
            except sa.exc.OperationalError as exc:
                if attempt == ATTEMPTS or not _is_busy(exc):
                    raise
                time.sleep(random.uniform(0.005, 0.05) * attempt)
                _rewind_uploads()
        raise AssertionError("unreachable")

    return wrapper


def _rewind_uploads() -> None:
    """The next run reads uploaded files (an import's) from their start again."""
    if has_request_context():
        for _name, upload in request.files.items(multi=True):
            upload.stream.seek(0)


def install_busy_retry(app: Flask, prefixes: tuple[str, ...]) -> None:
    """Wrap the view functions of the given endpoints (by endpoint-name prefix) on SQLite."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(prefixes):
            app.view_functions[endpoint] = retry_when_busy(view)
