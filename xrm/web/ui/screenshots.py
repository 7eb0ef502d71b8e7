"""Take the screenshots of the generated UI shown in the README and docs/ui.md.

    python -m xrm.web.ui.screenshots [--out docs/screenshots]

Starts the application on a temporary SQLite database with the sample pipeline of
:mod:`.tour`, serves it on 127.0.0.1 and drives Debian's Chromium (``/usr/bin/chromium``,
override with ``XRM_CHROMIUM``) through Playwright (the ``test`` extra) to the list, the form,
a record, the board and the dashboard. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
from pathlib import Path

from .tour import TourPlugin, install

PASSWORD = "screenshots-admin-1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES = [
    ("list", "/ui/tour.opportunity/"),
    ("form", "/ui/tour.opportunity/new"),
    ("record", None),
    ("board", "/ui/tour.opportunity/board"),
    ("dashboard", "/ui/dashboards/tour.sales"),
]


def serve(workdir: Path):
    from werkzeug.serving import WSGIRequestHandler, make_server

    from ... import create_app

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'tour.sqlite'}",
            "INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": os.urandom(16).hex(),
            "PLUGINS": {"tour": TourPlugin()},
        }
    )
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            "ada", "Ada", "Lovelace", "ada@example.org", sm.find_role("Admin"), password=PASSWORD
        )
    install(app.extensions["xrm"])

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def take(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        server, url = serve(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=os.environ.get("XRM_CHROMIUM", "/usr/bin/chromium"),
                    args=CHROMIUM_ARGS,
                )
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(url + "/login/")
                page.fill("input[name=username]", "ada")
                page.fill("input[name=password]", PASSWORD)
                page.click("input[type=submit]")
                page.wait_for_load_state()
                for name, path in PAGES:
                    if path is None:
                        page.goto(url + "/ui/tour.opportunity/")
                        page.wait_for_selector("#xrm-table a.xrm-open")
                        page.click("#xrm-table a.xrm-open >> nth=0")
                        page.wait_for_selector("#xrm-timeline li")
                    else:
                        page.goto(url + path)
                    page.wait_for_load_state("networkidle")
                    target = out / f"{name}.png"
                    page.screenshot(
                        path=str(target), full_page=name in ("form", "record", "dashboard")
                    )
                    written.append(target)
                browser.close()
        finally:
            server.shutdown()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots", type=Path)
    for path in take(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
