"""Who is calling: a personal API token, a JWT from ``POST /api/v1/security/login``, or a
Flask-AppBuilder session (whose unsafe requests must carry the CSRF token)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.internal_utils import (
    custom_verification_for_token,
    verify_token_not_blocklisted,
    verify_token_type,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from jwt import get_unverified_header
from werkzeug.exceptions import BadRequest, Unauthorized

from ..core.context import Actor
from ..core.security.access import actor_of
from ..core.security.tokens import PREFIX, user_for_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def current_actor(conn: sa.Connection | None = None) -> Actor:
    """The authenticated actor of this request (cached on ``g``), or 401. ``conn``: the
    request's connection, when it has one, for the user lookup (else one is opened)."""
    if "xrm_actor" in g:
        return g.xrm_actor
    token = _bearer()
    if token and token.startswith(PREFIX):
        user_id = _on(conn, lambda c: user_for_token(c, token))
        if user_id is None:
            raise Unauthorized("the API token is invalid, expired or revoked")
        remember_token_owner(token, user_id)
    elif token:
        user_id = _jwt_user_id(token)
    elif current_user and current_user.is_authenticated:
        user_id = current_user.id
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                validate_csrf(
                    request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
                )
            except (CSRFError, BadRequest, Exception) as exc:
                raise BadRequest(
                    f"session requests that change data need a valid X-CSRFToken header ({exc})"
                ) from None
    else:
        user_id = None
    admin_role = current_app.config.get("AUTH_ROLE_ADMIN", "Admin")
    actor = None if user_id is None else _on(conn, lambda c: actor_of(c, user_id, admin_role))
    if actor is None:
        raise Unauthorized("log in first: POST /api/v1/security/login, or send an API token")
    g.xrm_actor = actor
    return actor


def remember_token_owner(token: str, user_id: int) -> None:
    """Note whose API token this is (by its public prefix), so the rate limit, which runs
    before authentication, counts a user's tokens and logins in one bucket
    (:func:`token_owner`). At most :data:`VERIFIED_TOKENS` are kept per application."""
    owners = current_app.extensions.setdefault("xrm_token_owners", {})
    if len(owners) >= VERIFIED_TOKENS:
        owners.clear()
    owners[token[len(PREFIX) :].split("_", 1)[0]] = user_id


def token_owner(prefix: str) -> int | None:
    """The user an API token prefix was last authenticated for in this process, if any."""
    return current_app.extensions.get("xrm_token_owners", {}).get(prefix)


def _jwt_user_id(token: str) -> int:
    """The user id of a valid access token: Flask-JWT-Extended's checks of
    ``verify_jwt_in_request`` (signature, expiry, token type, revocation, custom claims),
    without its user loader: the user is read with the request's own connection.

    A token whose signature has been verified is remembered by this application (up to
    :data:`VERIFIED_TOKENS` of them) until it expires, so a client sending the same token
    again costs no new decoding; expiry, revocation and custom checks still run every time."""
    try:
        verified = current_app.extensions.setdefault("xrm_verified_tokens", {})
        found = verified.get(token)
        if found is None or found[1]["exp"] <= time.time():
            data = decode_token(token)  # signature, expiry, required claims
            verify_token_type(data, refresh=False)
            if "exp" not in data:
                data = {**data, "exp": time.time() + TOKEN_MEMORY_SECONDS}
            if len(verified) >= VERIFIED_TOKENS:
                verified.clear()
            found = verified[token] = (get_unverified_header(token), data)
        header, data = found
        verify_token_not_blocklisted(header, data)
        custom_verification_for_token(header, data)
        return int(data[current_app.config.get("JWT_IDENTITY_CLAIM", "sub")])
    except Exception:
        raise Unauthorized("the access token is invalid or expired") from None


#: Verified access tokens remembered per application.
VERIFIED_TOKENS = 4096
#: How long a token without an expiry is remembered before it is decoded again.
TOKEN_MEMORY_SECONDS = 300


def _on(conn: sa.Connection | None, read: Callable[[sa.Connection], Any]) -> Any:
    if conn is not None:
        return read(conn)
    with current_app.extensions["xrm"].engine.begin() as own:
        return read(own)
