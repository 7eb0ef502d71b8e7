"""Browser-test fixtures (see ``browser_kit.py`` for what they provide and the helpers)."""

from __future__ import annotations

import threading

import pytest
from browser_kit import (
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    _free_port,
    _require_browser_tools,
    login,
)


@pytest.fixture
def make_live_server(make_app):
    """Serve a fresh application (``make_app`` options: ``plugins={...}``, config) on a free
    port of 127.0.0.1, CSRF on, with the administrator ``admin`` / ``ADMIN_PASSWORD``."""
    _require_browser_tools()
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # the test output stays readable
            pass

    servers = []

    def start(**options) -> LiveServer:
        app = make_app(WTF_CSRF_ENABLED=True, TESTING=False, **options)
        with app.app_context():
            sm = app.appbuilder.sm
            sm.add_user(
                "admin",
                "Ada",
                "Admin",
                "admin@example.org",
                sm.find_role("Admin"),
                password=ADMIN_PASSWORD,
            )
        port = _free_port()
        server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, name="xrm-live", daemon=True)
        thread.start()
        servers.append((server, thread))
        return LiveServer(url=f"http://127.0.0.1:{port}", app=app)

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture
def live_server(request, make_live_server):
    """The application without plugins; a test module may set ``LIVE_SERVER_PLUGINS`` (a
    callable returning the ``plugins`` mapping) to serve its own."""
    plugins = getattr(request.module, "LIVE_SERVER_PLUGINS", None)
    return make_live_server(plugins=plugins() if plugins else None)


@pytest.fixture(scope="session")
def browser():
    _require_browser_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A page in a fresh context (no cookies) that fails the test on any console or page
    error not explicitly allowed."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg._xrm_allowed = []

    def on_console(msg):
        if msg.type == "error":
            errors.append(f"console error on {pg.url}: {msg.text}")

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: errors.append(f"page error on {pg.url}: {exc}"))
    yield pg
    context.close()
    unexpected = [e for e in errors if not any(p.search(e) for p in pg._xrm_allowed)]
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture
def logged_in(page):
    """A page logged in as the administrator."""
    login(page)
    return page
