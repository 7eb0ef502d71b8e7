"""A third-party plugin, written to a temporary folder, built and pip-installed, then installed
through the CLI while the platform runs in another process: its entity is served live.

Nothing is downloaded: the build uses the environment's setuptools (--no-build-isolation)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "xrm-acme-helpdesk"
version = "1.0.0"
dependencies = []

[project.entry-points."xrm.plugins"]
acme = "xrm_acme"

[tool.setuptools]
packages = ["xrm_acme"]

[tool.setuptools.package-data]
xrm_acme = ["entities/*.json"]
"""

PACKAGE = '''\
"""ACME help desk: tickets."""

from xrm.core.plugins import hookimpl, load_json_documents


@hookimpl
def xrm_plugin_info():
    return {"name": "acme", "label": "ACME help desk", "version": "1.0.0"}


@hookimpl
def xrm_entity_definitions():
    return load_json_documents(__package__, "entities")


@hookimpl
def xrm_default_roles():
    return [{"name": "ACME Agent", "permissions": {"acme.ticket": ["read", "create"]}}]


@hookimpl
def xrm_before_create(event):
    if event.entity == "acme.ticket":
        event.values["subject"] = event.values["subject"].strip().capitalize()
'''

TICKET = {
    "title": "Ticket",
    "x-xrm": {"name": "acme.ticket"},
    "required": ["subject"],
    "properties": {
        "subject": {"type": "string", "maxLength": 200},
        "priority": {"type": "string", "enum": ["low", "high"], "default": "low"},
    },
}


def write_plugin(root: Path) -> Path:
    src = root / "acme-helpdesk"
    (src / "xrm_acme" / "entities").mkdir(parents=True)
    (src / "pyproject.toml").write_text(PYPROJECT)
    (src / "xrm_acme" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    (src / "xrm_acme" / "entities" / "ticket.json").write_text(json.dumps(TICKET))
    return src


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, method="GET", body=None, token=None):
    req = urllib.request.Request(url, method=method)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_until_serving(base: str, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.stdout.read()}")
        try:
            urllib.request.urlopen(f"{base}/api/v1/meta/schemas/entity", timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_a_pip_installed_plugin_is_installed_by_the_cli_and_served_live(tmp_path, database_url):
    site = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation",
            "--no-deps", "--no-index", "--target", str(site), str(write_plugin(tmp_path)),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    assert (site / "xrm_acme" / "entities" / "ticket.json").exists()

    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "XRM_DATABASE_URL": database_url,
        "XRM_INSTANCE_PATH": str(tmp_path / "instance"),
        "XRM_SECRET_KEY": "third-party-plugin-test",
        "XRM_PLUGINS_ALLOW": "acme",
        "FLASK_APP": "",
    }

    def xrm(*args, **extra):
        res = subprocess.run(
            [str(BIN / "xrm"), *args], env={**env, **extra}, capture_output=True, text=True
        )
        assert res.returncode == 0, res.stdout + res.stderr
        return res.stdout

    listed = xrm("plugins", "list")
    assert "acme" in listed and "available" in listed
    xrm("init", "--admin-password", "pw-third-party", XRM_PLUGINS_ALLOW="none")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "xrm"), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_serving(base, server)
        status, body = call(
            f"{base}/api/v1/security/login",
            "POST",
            {"username": "admin", "password": "pw-third-party", "provider": "db"},
        )
        assert status == 200, body
        token = body["access_token"]
        assert call(f"{base}/api/v1/data/acme.ticket", token=token)[0] == 404
        assert (
            "/data/acme.ticket" not in call(f"{base}/api/v1/openapi.json", token=token)[1]["paths"]
        )

        out = xrm("plugins", "install", "acme")  # another process, while the server runs
        assert "create entity acme.ticket" in out and "role ACME Agent: create" in out

        status, body = call(f"{base}/api/v1/data/acme.ticket", token=token)
        assert status == 200 and body["items"] == []
        status, body = call(
            f"{base}/api/v1/data/acme.ticket", "POST", {"subject": "  printer on fire"}, token
        )
        assert status == 201, body
        # the running server calls the plugin's hook now that it is installed
        assert body["subject"] == "Printer on fire" and body["priority"] == "low"
        status, doc = call(f"{base}/api/v1/openapi.json", token=token)
        assert status == 200
        assert "post" in doc["paths"]["/data/acme.ticket"]
    finally:
        server.terminate()
        server.wait(timeout=30)
