"""Rate limiting per user for the xRM API: 429 with Retry-After.

Uses the Flask-Limiter instance Flask-AppBuilder already creates, with its storage
(``RATELIMIT_STORAGE_URI``: memory by default, ``redis://...`` to share limits between
processes). The limit is ``XRM_RATE_LIMIT`` (default ``1000 per minute``), counted per user:
the JWT subject, the API token's user (once the token was authenticated by this process;
before that, its prefix), the session user, or else the client address.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Blueprint, request, session
from flask_jwt_extended import decode_token
from limits import parse
from werkzeug.exceptions import TooManyRequests

from ..core.security.tokens import PREFIX
from .auth import token_owner


def _caller_key() -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
        if token.startswith(PREFIX):
            # A token seen before counts for its user (all of a user's tokens and logins
            # share one bucket); a token not yet authenticated here, for itself.
            prefix = token[len(PREFIX) :].split("_", 1)[0]
            owner = token_owner(prefix)
            return f"user:{owner}" if owner is not None else "token:" + prefix
        try:
            return "user:" + str(decode_token(token)["sub"])
        except Exception:
            return "bad:" + hashlib.sha256(token.encode()).hexdigest()[:16]
    if session.get("_user_id"):
        return f"user:{session['_user_id']}"
    return "addr:" + (request.remote_addr or "?")


class RetryLater(TooManyRequests):
    def __init__(self, retry_after: int, limit: str):
        super().__init__(f"rate limit of {limit} exceeded; retry in {retry_after} s")
        self.retry_after = retry_after


def install_rate_limit(app, blueprint: Blueprint) -> None:
    limit_text = app.config.get("XRM_RATE_LIMIT", "1000 per minute")
    if not limit_text:
        return
    item = parse(limit_text)

    @app.before_request
    def _limit():
        if request.blueprint != blueprint.name:
            return
        limiter = app.appbuilder.sm.limiter.limiter
        key = _caller_key()
        if not limiter.hit(item, "xrm-api", key):
            reset, _remaining = limiter.get_window_stats(item, "xrm-api", key)
            raise RetryLater(max(1, math.ceil(reset - time.time())), limit_text)
