"""Who is calling: a FAB session user or a JWT from ``POST /api/v1/security/login``."""

from __future__ import annotations

from flask import current_app
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_login import current_user
from werkzeug.exceptions import Unauthorized

from ..core.context import Actor


def current_actor() -> Actor:
    """The authenticated actor of this request, or 401."""
    user = None
    if current_user and current_user.is_authenticated:
        user = current_user
    else:
        try:
            if verify_jwt_in_request(optional=True):
                sm = current_app.appbuilder.sm
                user = sm.get_user_by_id(int(get_jwt_identity()))
        except Exception:
            raise Unauthorized("the access token is invalid or expired") from None
    if user is None or not user.is_active:
        raise Unauthorized("log in first: POST /api/v1/security/login")
    roles = tuple(r.name for r in user.roles)
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=roles,
        is_admin=current_app.config.get("AUTH_ROLE_ADMIN", "Admin") in roles,
    )
