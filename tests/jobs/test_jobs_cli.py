"""``xrm worker --once`` and ``xrm jobs list|show|retry|discard``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from jobs_support import free_port

from xrm.cli import main
from xrm.core.jobs import enqueue


@pytest.fixture
def cli(database_url, tmp_path):
    env = {
        "XRM_DATABASE_URL": database_url,
        "XRM_INSTANCE_PATH": str(tmp_path / "instance"),
        "XRM_SECRET_KEY": "cli-test",
        "XRM_PLUGINS_ALLOW": "none",
        "XRM_JOBS": "worker",
        "XRM_JOBS_MAX_ATTEMPTS": "1",
        "FLASK_APP": "",
    }

    def run(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def test_dead_letters_are_listed_shown_retried_and_discarded(cli, platform):
    with platform.engine.begin() as conn:
        enqueue(conn, "action.webhook", "cli-1", {"url": f"http://127.0.0.1:{free_port()}/"})
    res = cli("worker", "--once", "--no-schedule")
    assert res.exit_code == 0 and "Delivered: 1 dead." in res.output
    listed = cli("jobs", "list", "--status", "dead")
    assert "action.webhook" in listed.output and "cli-1" in listed.output
    assert "1 dead" in listed.output
    job_id = int(listed.output.split()[0])
    shown = json.loads(cli("jobs", "show", str(job_id)).output)
    assert shown["status"] == "dead" and shown["runs"][0]["outcome"] == "dead"
    assert f"Job {job_id} queued again." in cli("jobs", "retry", str(job_id)).output
    assert "discarded" in cli("jobs", "discard", str(job_id)).output
    missing = cli("jobs", "retry", "424242")
    assert missing.exit_code == 1 and "there is no job 424242" in missing.output


def test_worker_once_with_nothing_due(cli):
    res = cli("worker", "--once", "--no-schedule")
    assert res.exit_code == 0 and "Delivered: nothing due." in res.output
