"""Flask's signed-cookie sessions, with the signing serializer built once per key set.

Flask builds a new ``URLSafeTimedSerializer`` when it opens and when it saves a session, i.e. on
every request, also on API calls that carry a bearer token and no cookie; itsdangerous probes
the serializer with a ``dumps({})`` each time it is built. That was a measurable part of a
record API read (``bench/api_bench.py --profile get``). The serializer depends only on the
secret key, its fallbacks and the interface's fixed settings, so it is kept until one of those
changes (the key set is compared on every request: a rotated key takes effect at once).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


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


def install_sessions(app: Flask) -> None:
    """Use :class:`KeyedSessionInterface` unless the application chose another interface."""
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = KeyedSessionInterface()
