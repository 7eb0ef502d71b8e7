"""Helpers of the admin browser tests: drive the designers as a person would (click, type,
choose), and keep screenshots of the pages in docs/screenshots/admin_*.png."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page, name: str) -> None:
    """Save a full-page screenshot as docs/screenshots/<name>.png when XRM_SCREENSHOTS=1.

    Off by default: a test run must not rewrite files of the checkout (and full-page PNGs cost
    time); refresh the documentation's pictures with ``XRM_SCREENSHOTS=1``.
    """
    if os.environ.get("XRM_SCREENSHOTS", "0") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def add_field(
    page,
    name: str,
    type_: str,
    *,
    label: str = "",
    required: bool = False,
    default: str = "",
    options: dict[str, str] | None = None,
    choices: list[str] | None = None,
) -> None:
    """Add a field through the field editor. ``options`` maps an input's data-key (the JSON
    pointer below the field: ``maxLength``, ``x-xrm/target``...) to the value to enter."""
    page.click("#xa-add-field")
    editor = page.locator(".xa-field-editor")
    editor.locator("input[name=field-name]").fill(name)
    if label:
        editor.locator("input[name=field-title]").fill(label)
    editor.locator("select[name=field-type]").select_option(type_)
    if required:
        editor.locator("input[name=field-required]").check()
    if default:
        editor.locator("input[name=field-default]").fill(default)
    for key, value in (options or {}).items():
        control = editor.locator(f"[data-key='{key}']")
        if control.evaluate("n => n.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    for i, value in enumerate(choices or []):
        editor.locator("button[name=add-option]").click()
        editor.locator(f"[data-key='x-xrm/options/{i}/value']").fill(value)
    editor.locator("button[name=save-field]").click()
    page.locator(f"#xa-fields tr[data-field='{name}']").wait_for()


def review_plan(page) -> None:
    """Ask for the migration plan and wait until it is shown."""
    page.click("#xa-review")
    page.locator("#xa-plan h4, #xa-plan .xa-plan-empty").first.wait_for()


@contextlib.contextmanager
def serve(make_app, **config):
    """The application built with ``config`` (e.g. ``plugins={...}``) served like
    ``live_server``; a test module overrides ``live_server`` with it when it needs plugins."""
    from browser_kit import ADMIN_PASSWORD, LiveServer, _free_port, _require_browser_tools
    from werkzeug.serving import make_server

    _require_browser_tools()
    app = make_app(WTF_CSRF_ENABLED=True, TESTING=False, **config)
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
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="xrm-admin-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
