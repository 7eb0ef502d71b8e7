"""Who is calling: a personal API token, a JWT from ``POST /api/v1/security/login``, or a
Flask-AppBuilder session (whose unsafe requests must carry the CSRF token)."""

from __future__ import annotations

from flask import current_app, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import BadRequest, Unauthorized

from ..core.context import Actor
from ..core.security.tokens import PREFIX, user_for_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def current_actor() -> Actor:
    """The authenticated actor of this request (cached on ``g``), or 401."""
    if "xrm_actor" in g:
        return g.xrm_actor
    sm = current_app.appbuilder.sm
    user = None
    token = _bearer()
    if token and token.startswith(PREFIX):
        with current_app.extensions["xrm"].engine.begin() as conn:
            user_id = user_for_token(conn, token)
        if user_id is None:
            raise Unauthorized("the API token is invalid, expired or revoked")
        user = sm.get_user_by_id(user_id)
    elif token:
        try:
            verify_jwt_in_request()
            user = sm.get_user_by_id(int(get_jwt_identity()))
        except Exception:
            raise Unauthorized("the access token is invalid or expired") from None
    elif current_user and current_user.is_authenticated:
        user = current_user
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                validate_csrf(
                    request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
                )
            except (CSRFError, BadRequest, Exception) as exc:
                raise BadRequest(
                    f"session requests that change data need a valid X-CSRFToken header ({exc})"
                ) from None
    if user is None or not user.is_active:
        raise Unauthorized("log in first: POST /api/v1/security/login, or send an API token")
    roles = tuple(r.name for r in user.roles)
    g.xrm_actor = Actor(
        user_id=user.id,
        username=user.username,
        roles=roles,
        is_admin=current_app.config.get("AUTH_ROLE_ADMIN", "Admin") in roles,
    )
    return g.xrm_actor
