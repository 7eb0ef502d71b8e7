"""Browser-test helpers (imported by tests as ``from browser_kit import ...``) and the
settings behind the fixtures of ``conftest.py``: the real application served on 127.0.0.1, driven by Playwright through
Debian's Chromium (``/usr/bin/chromium``; never ``playwright install``).

- ``live_server``: ``create_app`` on a fresh database of the backend under test (SQLite file, or a
  PostgreSQL schema with ``XRM_TEST_DATABASE=postgresql``), served by werkzeug in a background
  thread on a free port, CSRF protection on, with an administrator ``admin`` /
  ``ADMIN_PASSWORD``. ``live_server.api`` calls the REST API as that administrator.
- ``browser``: one headless Chromium per test session (per xdist worker).
- ``page``: a fresh browser context and page whose console errors and uncaught page errors FAIL
  the test; a test that provokes an expected one (a 403 page, a 422 answer) says so with
  ``allow_console_errors(page, "status of 422")``.
- ``login(page, username, password)``, ``make_user(server, ...)``: people and their rights.

Without Chromium or Playwright the tests are skipped with the reason; with ``CI=true`` they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest

CHROMIUM = os.environ.get("XRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IN_CI = os.environ.get("CI", "").lower() == "true"
ADMIN_PASSWORD = "browser-admin-password-1"


def _missing_browser_tools() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    return None


def _require_browser_tools() -> None:
    problem = _missing_browser_tools()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true and the browser tests cannot run: {problem}", pytrace=False)
    pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class LiveServer:
    """The running application: ``url``, the Flask ``app`` and the REST API as admin."""

    url: str
    app: Any
    _token: str | None = field(default=None, repr=False)

    @property
    def platform(self):
        return self.app.extensions["xrm"]

    def token(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        res = self.request(
            "POST",
            "/api/v1/security/login",
            {"username": username, "password": password, "provider": "db"},
            token=None,
        )
        return res["access_token"]

    def request(self, method: str, path: str, body: Any = None, *, token: Any = "admin") -> Any:
        """Call the API over HTTP (JSON in and out); raises ApiError on a 4xx/5xx."""
        if token == "admin":
            self._token = self._token or self.token()
            token = self._token
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                raw = res.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise ApiError(exc.code, parsed) from None
        return json.loads(raw) if raw else None

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return self.request(method, "/api/v1" + path, body)

    def apply(self, *documents: dict) -> None:
        """Apply entity definitions (and option sets) through the registry."""
        self.platform.registry.apply_documents(list(documents))


def allow_console_errors(page, pattern: str) -> None:
    """Let console errors matching ``pattern`` (a regex) pass: the test expects them."""
    page._xrm_allowed.append(re.compile(pattern))


def login(page, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Log in through Flask-AppBuilder's login form, as a person would."""
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    if "/login" in page.url:
        raise AssertionError(f"login of {username!r} failed: {page.inner_text('body')[:300]}")


def make_user(
    server: LiveServer,
    username: str,
    password: str,
    *,
    role: str | None = None,
    grants: dict[str, list[str]] | None = None,
    scopes: dict[str, str] | None = None,
) -> dict:
    """Create a user (and its role with entity grants) through the administration API.

    ``grants``: entity -> actions (read, create, update, delete, import, export);
    ``scopes``: entity -> own | team | all.
    """
    roles = []
    if role:
        try:
            server.api("POST", "/admin/roles", {"name": role})
        except ApiError as exc:
            if exc.status != 409:
                raise
        for entity, actions in (grants or {}).items():
            body = {"actions": actions, "scope": (scopes or {}).get(entity, "all")}
            server.api("PUT", f"/admin/roles/{role}/entities/{entity}", body)
        roles.append(role)
    return server.api(
        "POST",
        "/admin/users",
        {
            "username": username,
            "password": password,
            "email": f"{username}@example.org",
            "firstName": username.title(),
            "lastName": "Tester",
            "roles": roles,
        },
    )
