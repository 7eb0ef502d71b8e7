"""Audit retention: XRM_AUDIT_RETENTION_DAYS, the hourly periodic job ``audit.retention`` and
``xrm audit purge``."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from xrm.cli import main
from xrm.core.context import SYSTEM
from xrm.core.jobs.dispatcher import Dispatcher
from xrm.core.jobs.scheduler import Scheduler
from xrm.core.tables import audit
from xrm.settings import Settings

ITEM = {"x-xrm": {"name": "demo.note"}, "properties": {"title": {"type": "string"}}}


def _old_and_new_entries(platform) -> int:
    """Two audited writes, the first dated 2020; returns the record's id."""
    platform.registry.apply_documents([ITEM])
    with platform.engine.begin() as conn:
        rid = platform.records.create(conn, SYSTEM, "demo.note", {"title": "old"})["id"]
        conn.execute(audit.update().values(at=dt.datetime(2020, 1, 1)))
        platform.records.update(conn, SYSTEM, "demo.note", rid, {"title": "new"})
    return rid


def _actions(platform, rid) -> list[str]:
    with platform.engine.connect() as conn:
        return [e["action"] for e in platform.records.history(conn, SYSTEM, "demo.note", rid)]


def test_the_retention_setting_is_read_and_checked(tmp_path):
    assert Settings.load({"INSTANCE_PATH": tmp_path}, env={}).audit_retention_days == 0
    env = {"XRM_AUDIT_RETENTION_DAYS": "365"}
    assert Settings.load({"INSTANCE_PATH": tmp_path}, env=env).audit_retention_days == 365
    for bad in ("a year", "-3", "1.5"):
        with pytest.raises(ValueError, match="XRM_AUDIT_RETENTION_DAYS must be a whole number"):
            Settings.load({"INSTANCE_PATH": tmp_path}, env={"XRM_AUDIT_RETENTION_DAYS": bad})


def test_the_periodic_job_deletes_entries_older_than_the_retention(make_app):
    app = make_app(WORKFLOW_PERIODIC_JOBS=True, AUDIT_RETENTION_DAYS=30)
    platform = app.extensions["xrm"]
    assert platform.jobs.periodics["audit.retention"].every_seconds == 3600
    rid = _old_and_new_entries(platform)
    started = Scheduler(platform, platform.jobs, "w1").tick(dt.datetime.now(dt.UTC))
    assert any(key.startswith("periodic:audit.retention:") for key in started)
    Dispatcher(platform, platform.jobs).drain()
    assert _actions(platform, rid) == ["update"]


def test_without_a_retention_there_is_no_job_and_nothing_is_deleted(make_app):
    platform = make_app(WORKFLOW_PERIODIC_JOBS=True).extensions["xrm"]
    assert "audit.retention" not in platform.jobs.periodics
    rid = _old_and_new_entries(platform)
    Scheduler(platform, platform.jobs, "w1").tick(dt.datetime.now(dt.UTC))
    Dispatcher(platform, platform.jobs).drain()
    assert _actions(platform, rid) == ["update", "create"]


def test_the_purge_command_uses_the_setting_or_days(database_url, tmp_path, make_app):
    platform = make_app().extensions["xrm"]
    rid = _old_and_new_entries(platform)
    env = {
        "XRM_DATABASE_URL": database_url,
        "XRM_INSTANCE_PATH": str(tmp_path / "instance"),
        "XRM_SECRET_KEY": "cli-test",
        "XRM_PLUGINS_ALLOW": "none",
        "FLASK_APP": "",
    }
    run = CliRunner().invoke
    refused = run(main, ["audit", "purge"], env=env)
    assert refused.exit_code == 1
    assert "give --days N or set XRM_AUDIT_RETENTION_DAYS" in refused.output
    assert _actions(platform, rid) == ["update", "create"]
    done = run(main, ["audit", "purge"], env={**env, "XRM_AUDIT_RETENTION_DAYS": "30"})
    assert done.exit_code == 0, done.output
    assert "Deleted 1 audit entries older than 30 days." in done.output
    assert _actions(platform, rid) == ["update"]
    with platform.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit)).scalar() == 1
