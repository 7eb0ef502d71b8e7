"""Metadata coherence across processes: a change applied by one process is used by every other
process on its next request. Two real server processes and a CLI process share one database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

XRM = str(Path(sys.executable).with_name("xrm"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, path, token=None, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if body else "GET")
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def wait_ready(port, proc, deadline=30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            call(port, "/api/v1/meta/schemas/entity")
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"server on {port} did not start")


@pytest.mark.slow
@pytest.mark.parametrize("notify", ["0", "1"], ids=["version-read", "listen-notify"])
def test_a_change_applied_by_one_process_is_served_by_the_others_on_their_next_request(
    database_url, tmp_path, backend, notify
):
    if notify == "1" and backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    env = {
        **os.environ,
        "XRM_DATABASE_URL": database_url,
        "XRM_INSTANCE_PATH": str(tmp_path / "i"),
        "XRM_SECRET_KEY": "coherence-test",
        "XRM_PLUGINS_ALLOW": "none",
        # With listening on, no safety poll during the test: only the notifications can tell
        # the servers about the change.
        "XRM_METADATA_NOTIFY": notify,
        "XRM_METADATA_POLL_SECONDS": "3600",
    }
    subprocess.run(
        [XRM, "init", "--admin-password", "pw-coherence"], env=env, check=True, capture_output=True
    )
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [XRM, "run", "--port", str(p), "--no-reload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for p in ports
    ]
    try:
        for port, proc in zip(ports, servers, strict=True):
            wait_ready(port, proc)
        tokens = [
            call(
                p,
                "/api/v1/security/login",
                body={"username": "admin", "password": "pw-coherence", "provider": "db"},
            )["access_token"]
            for p in ports
        ]
        before = [call(p, "/api/v1/meta/entities", t) for p, t in zip(ports, tokens, strict=True)]
        assert all(b["items"] == [] for b in before)

        doc = tmp_path / "ticket.json"
        doc.write_text(
            json.dumps(
                {"x-xrm": {"name": "help.ticket"}, "properties": {"subject": {"type": "string"}}}
            )
        )
        subprocess.run(
            [XRM, "entities", "apply", str(doc)], env=env, check=True, capture_output=True
        )

        for port, token, old in zip(ports, tokens, before, strict=True):
            now = call(port, "/api/v1/meta/entities", token)
            assert [e["name"] for e in now["items"]] == ["help.ticket"]
            assert now["version"] == old["version"] + 1

        # More changes, each seen at once by both servers (also the one that was idle).
        for i in range(3):
            fields = {"subject": {"type": "string"}} | {
                f"extra{j}": {"type": "string"} for j in range(i + 1)
            }
            doc.write_text(json.dumps({"x-xrm": {"name": "help.ticket"}, "properties": fields}))
            subprocess.run(
                [XRM, "entities", "apply", str(doc)], env=env, check=True, capture_output=True
            )
            for port, token, old in zip(ports, tokens, before, strict=True):
                now = call(port, "/api/v1/meta/entities", token)
                assert now["version"] == old["version"] + 2 + i

        # The record endpoints too (their version check rides on the statement that loads the
        # caller): a field added a moment ago is accepted by each server's very next request.
        doc.write_text(
            json.dumps(
                {
                    "x-xrm": {"name": "help.ticket"},
                    "properties": fields | {"late": {"type": "string"}},
                }
            )
        )
        subprocess.run(
            [XRM, "entities", "apply", str(doc)], env=env, check=True, capture_output=True
        )
        for port, token in zip(ports, tokens, strict=True):
            created = call(
                port, "/api/v1/data/help.ticket", token, body={"subject": "s", "late": "x"}
            )
            assert created["late"] == "x"
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=10)
