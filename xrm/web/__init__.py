"""The web layer: thin, parse -> call core -> render."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from .api import api
    from .errors import register_error_handlers
    from .openapi import routes as _openapi_routes  # noqa: F401  (adds /openapi.json, /docs)
    from .ratelimit import install_rate_limit

    install_rate_limit(app, api)
    app.register_blueprint(api)
    register_error_handlers(app)
