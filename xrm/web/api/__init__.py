"""REST API under /api/v1/: fixed generic endpoints; entities are URL parameters, so a new
entity is served the moment its transaction commits (no routes are added at run time)."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.exceptions import BadRequest

from ...metadata.names import ENTITY_NAME

api = Blueprint("xrm_api", __name__, url_prefix="/api/v1")


@api.before_request
def _refuse_nul_in_query():
    """No parameter of the API holds a NUL character, and PostgreSQL refuses it in text: a
    query string with one is a 400 before any endpoint sees it."""
    if b"%00" in request.query_string:
        raise BadRequest("the query string contains a NUL character (%00)")


def entity_arg() -> str | None:
    """The optional ``?entity=`` filter of a listing: an entity name, or 400 (a name with
    control characters or a NUL must not reach the database: PostgreSQL refuses NUL in text)."""
    entity = request.args.get("entity")
    if entity is not None and not ENTITY_NAME.fullmatch(entity):
        raise BadRequest(f"'entity' is an entity name such as crm.contact, not {entity!r}")
    return entity


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
