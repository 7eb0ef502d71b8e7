"""REST API under /api/v1/: fixed generic endpoints; entities are URL parameters, so a new
entity is served the moment its transaction commits (no routes are added at run time)."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("xrm_api", __name__, url_prefix="/api/v1")

from . import (  # noqa: E402,F401  (registers the routes)
    admin,
    aggregate,
    audit_log,
    data,
    inbox,
    jobs,
    meta,
    plugins,
    tokens,
    transfer,
    views,
    workflows,
)
