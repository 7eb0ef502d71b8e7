"""Errors as ``application/problem+json`` (RFC 9457). Never a stack trace to the client."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from ..core.plugins import PluginError
from ..core.records.errors import RecordError
from ..metadata.errors import DefinitionInvalid, MetadataError, PlanRefused

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype=PROBLEM)


def register_error_handlers(app: Flask) -> None:
    def api_only(fn):
        def handler(exc):
            if not request.path.startswith("/api/"):
                return exc if isinstance(exc, HTTPException) else fn(exc)
            return fn(exc)

        return handler

    @app.errorhandler(DefinitionInvalid)
    def _invalid(exc: DefinitionInvalid):
        return problem(
            exc.status,
            exc.title,
            str(exc).splitlines()[0],
            errors=[p.as_dict() for p in exc.problems],
        )

    @app.errorhandler(PlanRefused)
    def _refused(exc: PlanRefused):
        return problem(exc.status, exc.title, str(exc), report=exc.report)

    @app.errorhandler(MetadataError)
    def _meta(exc: MetadataError):
        return problem(exc.status, exc.title, str(exc))

    @app.errorhandler(RecordError)
    def _record(exc: RecordError):
        return problem(exc.status, exc.title, str(exc), errors=exc.problems)

    @app.errorhandler(PluginError)
    def _plugin(exc: PluginError):
        extra = {"plugin": exc.plugin} if getattr(exc, "plugin", None) else {}
        return problem(
            exc.status,
            getattr(exc, "title", "Plugin error"),
            str(exc),
            **extra,
            **getattr(exc, "details", {}),
        )

    @app.errorhandler(HTTPException)
    @api_only
    def _http(exc: HTTPException):
        res = problem(exc.code or 500, exc.name, exc.description or exc.name)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            res.headers["Retry-After"] = str(retry_after)
        return res

    @app.errorhandler(Exception)
    @api_only
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(
            500, "Internal Server Error", "an unexpected error occurred; it has been logged"
        )
