"""The web layer: thin, parse -> call core -> render."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from .api import api
    from .errors import register_error_handlers
    from .jsonbody import install_json
    from .openapi import routes as _openapi_routes  # noqa: F401  (adds /openapi.json, /docs)
    from .ratelimit import install_rate_limit
    from .sessions import install_sessions

    install_json(app)
    install_sessions(app)
    install_rate_limit(app, api)
    app.register_blueprint(api)
    register_error_handlers(app)
    from .api.workflows import register_workflow_errors

    register_workflow_errors(app)

    from .ui import register_ui

    register_ui(app)

    from .admin import register_admin

    register_admin(app)

    if app.extensions["xrm"].engine.dialect.name == "sqlite":
        from .busy import install_busy_retry

        install_busy_retry(app, ("xrm_api.",))
