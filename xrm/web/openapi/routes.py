"""``GET /api/v1/openapi.json`` and the browsable API at ``/api/v1/docs``.

The document is rebuilt only when the metadata version moves: a cache on the application
(``app.extensions["xrm.openapi"]``, never a module global) holds the serialized document of the
latest version, served with an ``ETag`` of that version. Swagger UI is served from the files of
the ``flask-swagger-ui`` distribution: nothing is loaded from another host.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, request, send_from_directory, url_for
from flask_appbuilder.const import AUTH_LDAP
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import NotFound

from ... import __version__
from ...metadata.compiler import MetadataSnapshot
from ..api import api
from ..auth import current_actor
from .document import build_document
from .page import SCRIPT, STYLE, render_page

CACHE_KEY = "xrm.openapi"

#: The Swagger UI files the page uses (anything else in the distribution is not served).
SWAGGER_UI_FILES = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}
)


@dataclass(frozen=True)
class ServedDocument:
    version: int
    server_url: str
    body: bytes
    etag: str


class DocumentCache:
    """The serialized document of the newest metadata version seen (thread-safe)."""

    def __init__(self) -> None:
        self._current: ServedDocument | None = None
        self._lock = threading.Lock()

    def get(self, snapshot: MetadataSnapshot, server_url: str) -> ServedDocument:
        doc = self._current
        if doc is not None and (doc.version, doc.server_url) == (snapshot.version, server_url):
            return doc
        with self._lock:
            doc = self._current
            if doc is None or (doc.version, doc.server_url) != (snapshot.version, server_url):
                doc = ServedDocument(
                    version=snapshot.version,
                    server_url=server_url,
                    body=json.dumps(build_document(snapshot, server_url)).encode(),
                    # The code's version too: an upgrade may change the document.
                    etag=f"{snapshot.version}-{__version__}",
                )
                # A request still on an older snapshot must not evict a newer document.
                if self._current is None or doc.version >= self._current.version:
                    self._current = doc
        return doc


def document_cache(app) -> DocumentCache:
    return app.extensions.setdefault(CACHE_KEY, DocumentCache())


@api.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of this API at the current metadata version."""
    current_actor()
    p = current_app.extensions["xrm"]
    with p.engine.connect() as conn:
        snapshot = p.registry.snapshot(conn)
    served = document_cache(current_app).get(snapshot, request.script_root + api.url_prefix)
    res = Response(served.body, mimetype="application/json")
    res.set_etag(served.etag)
    res.headers["X-Xrm-Metadata-Version"] = str(served.version)
    # Credentials are needed, so only the caller's own cache may keep it, and must revalidate.
    res.cache_control.private = True
    res.cache_control.no_cache = True
    return res.make_conditional(request)


def _swagger_ui_dist() -> Path:
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise NotFound("Swagger UI is not installed on this server (flask-swagger-ui)")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


@api.get("/docs")
def api_docs():
    """The browsable API (Swagger UI)."""
    authenticated = current_user is not None and current_user.is_authenticated
    html = render_page(
        assets=url_for("xrm_api.api_docs") + "/assets",
        docs_css=url_for("xrm_api.api_docs_style"),
        docs_js=url_for("xrm_api.api_docs_script"),
        spec_url=url_for("xrm_api.openapi_document"),
        login_url=request.script_root + "/api/v1/security/login",
        provider="ldap" if current_app.config.get("AUTH_TYPE") == AUTH_LDAP else "db",
        # Session users need the CSRF token for requests that change data.
        csrf_token=generate_csrf() if authenticated else "",
        session=authenticated,
    )
    return Response(html, mimetype="text/html")


@api.get("/docs/xrm-docs.js")
def api_docs_script():
    return Response(SCRIPT, mimetype="text/javascript")


@api.get("/docs/xrm-docs.css")
def api_docs_style():
    return Response(STYLE, mimetype="text/css")


@api.get("/docs/assets/<name>")
def api_docs_asset(name: str):
    if name not in SWAGGER_UI_FILES:
        raise NotFound(f"no such file: {name}")
    return send_from_directory(_swagger_ui_dist(), name, max_age=86400)
