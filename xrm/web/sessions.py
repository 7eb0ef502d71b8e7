"""Flask's signed-cookie sessions, with the signing serializer built once per key set, and
none at all for API calls authenticated by a bearer token.

Flask builds a new ``URLSafeTimedSerializer`` when it opens and when it saves a session, i.e. on
every request, also on API calls that carry a bearer token and no cookie; itsdangerous probes
the serializer with a ``dumps({})`` each time it is built. That was a measurable part of a
record API read (``bench/api_bench.py --profile get``). The serializer depends only on the
secret key, its fallbacks and the interface's fixed settings, so it is kept until one of those
changes (the key set is compared on every request: a rotated key takes effect at once).

An API request that carries a bearer token (a JWT or a personal API token) and no session
cookie is authenticated by the token alone (:func:`xrm.web.auth.current_actor` never reads the
session for it), so its session is a :class:`TokenSession` that is not saved: no cookie is
parsed, no ``Set-Cookie`` and no ``Vary: Cookie`` go out (Flask-Login's after-request hook
reads the session on every request, which made every API response ``Vary: Cookie``). Should
anything write to such a session, it is saved as any other.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class TokenSession(SecureCookieSession):
    """The empty session of an API request authenticated by a bearer token."""


class KeyedSessionInterface(SecureCookieSessionInterface):
    """Flask's :class:`SecureCookieSessionInterface` with its signing serializer reused while
    the application's secret key and fallbacks stay the same."""

    def __init__(self) -> None:
        self._signing: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._signing
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        self._signing = (keys, serializer)
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        environ = request.environ
        if (
            environ.get("PATH_INFO", "").startswith("/api/")
            and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
            and self.get_cookie_name(app) not in request.cookies
        ):
            return TokenSession()
        return super().open_session(app, request)

    def is_null_session(self, obj: object) -> bool:
        return (isinstance(obj, TokenSession) and not obj.modified) or super().is_null_session(obj)


def install_sessions(app: Flask) -> None:
    """Use :class:`KeyedSessionInterface` unless the application chose another interface."""
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = KeyedSessionInterface()
