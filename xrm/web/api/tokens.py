"""Personal API tokens of the calling user: create (shown once), list, revoke."""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from ...core.security.tokens import create_token, list_tokens, revoke_token
from ..auth import current_actor
from . import api


@api.post("/tokens")
def create_api_token():
    actor = current_actor()
    body = request.get_json(silent=True) or {}
    name = body.get("name")
    days = body.get("expiresInDays")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("'name' is required: what the token is for")
    if days is not None and (
        not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 36500
    ):
        raise BadRequest("'expiresInDays' is a whole number of days from 1 to 36500")
    with current_app.extensions["xrm"].engine.begin() as conn:
        token = create_token(conn, actor.user_id, name.strip(), days)
    return jsonify(token), 201


@api.get("/tokens")
def list_api_tokens():
    actor = current_actor()
    with current_app.extensions["xrm"].engine.connect() as conn:
        return jsonify({"items": list_tokens(conn, actor.user_id)})


@api.delete("/tokens/<int(max=2147483647):token_id>")
def revoke_api_token(token_id: int):
    actor = current_actor()
    with current_app.extensions["xrm"].engine.begin() as conn:
        revoke_token(conn, actor.user_id, token_id, any_user=actor.is_admin)
    return "", 204
