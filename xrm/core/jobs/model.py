"""What a handler sees: the message it delivers (:class:`Job`) and the platform around it
(:class:`JobContext`), passed explicitly (no global state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pluggy
import sqlalchemy as sa

from .config import JobConfig


@dataclass(frozen=True)
class Job:
    """One outbox message being delivered (attempt 1 is the first delivery)."""

    id: int
    topic: str
    key: str
    entity: str | None
    record_id: int | None
    payload: dict[str, Any]
    attempt: int
    created_at: dt.datetime | None = None


class PlatformParts(Protocol):
    """The parts of the application's ``Platform`` the jobs use (duck-typed: core never
    imports the app)."""

    engine: sa.Engine
    registry: Any
    records: Any
    plugins: pluggy.PluginManager
    settings: Any


@dataclass
class JobContext:
    """The platform, the job's clock and its run log; one per attempt."""

    engine: sa.Engine
    registry: Any  # MetadataRegistry
    records: Any  # RecordService
    plugins: pluggy.PluginManager
    settings: Any  # xrm.settings.Settings
    config: JobConfig
    now: dt.datetime
    job: Job
    steps: list[dict[str, Any]] = field(default_factory=list)

    def step(self, message: str, **data: Any) -> None:
        """Add a line to the run log (shown by ``GET /api/v1/admin/jobs/<id>``)."""
        entry: dict[str, Any] = {"at": _iso(_utcnow()), "message": message}
        if data:
            entry["data"] = data
        self.steps.append(entry)


#: A handler: ``fn(ctx, job)``; its return value (JSON-ready, optional) is logged as the result.
Handler = Callable[[JobContext, Job], Any]


@dataclass(frozen=True)
class Periodic:
    """Work that runs once per slot of ``every_seconds``, on one worker among many."""

    name: str
    every_seconds: int
    fn: Handler

    @property
    def topic(self) -> str:
        return f"periodic.{self.name}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"
