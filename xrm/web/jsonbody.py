"""JSON responses encoded with orjson, meaning the same as Flask's default provider's.

A page of 50 records is about 20 KB of JSON; Python's ``json`` module (even its C encoder,
which Flask's ``default`` hook keeps) takes a few hundred microseconds for it, orjson a tenth of
that. Only :meth:`response` (``jsonify``) changes: values orjson does not encode itself go to
Flask's own ``default`` (dates as HTTP dates, ``Decimal`` and ``UUID`` as strings, dataclasses
as objects), and anything orjson refuses - an integer beyond 64 bits, a dictionary key that is
not a string - is encoded by Flask's provider exactly as before. The bytes may differ from
``json.dumps``: non-ASCII characters are sent as UTF-8 rather than ``\\u`` escapes (the same
JSON value), and a float NaN or infinity is ``null`` (``json.dumps`` writes ``NaN``, which is
not JSON).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (
    orjson.OPT_APPEND_NEWLINE  # as Flask's provider
    | orjson.OPT_PASSTHROUGH_DATETIME  # Flask writes dates as HTTP dates, orjson as ISO 8601
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's :class:`DefaultJSONProvider` whose responses are encoded by orjson."""

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)  # indented: leave it to json
        obj = self._prepare_response_obj(args, kwargs)
        options = _OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        try:
            body = orjson.dumps(obj, default=self.default, option=options)
        except TypeError:
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)


def install_json(app: Flask) -> None:
    """Encode the application's JSON responses with orjson, keeping its settings."""
    if type(app.json) is DefaultJSONProvider:
        current = app.json
        app.json = OrjsonProvider(app)
        app.json.sort_keys = current.sort_keys
        app.json.ensure_ascii = current.ensure_ascii
        app.json.compact = current.compact
