"""The handlers of the outbox topics and the periodic jobs, registered by the platform, the
workflow runtime and plugins on ``platform.jobs``.

    @platform.jobs.handler("crm.quote.send")
    def send_quote(ctx, job): ...

    @platform.jobs.handler("automation.*")      # every topic starting with "automation."
    def run_automation(ctx, job): ...

    @platform.jobs.periodic("workflow.timers", every_seconds=60)
    def fire_due_timers(ctx, job): ...

An exact topic wins over a prefix; the longest prefix wins over a shorter one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import MappingProxyType

from .config import JobConfig
from .model import Handler, Periodic

TOPIC = re.compile(r"^[a-z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_-]+)*$")
TOPIC_PREFIX = re.compile(r"^[a-z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_-]+)*\.\*$")


class JobRegistry:
    def __init__(self, config: JobConfig | None = None):
        self.config = config or JobConfig()
        self._exact: dict[str, Handler] = {}
        self._prefix: dict[str, Handler] = {}
        self._periodic: dict[str, Periodic] = {}

    def handler(self, topic: str) -> Callable[[Handler], Handler]:
        """Register ``fn(ctx, job)`` for ``topic`` (exact, or a prefix ending in ``.*``)."""
        if TOPIC_PREFIX.match(topic):
            target, name = self._prefix, topic[:-1]  # keep the dot: "automation."
        elif TOPIC.match(topic):
            target, name = self._exact, topic
        else:
            raise ValueError(
                f"invalid job topic {topic!r}: dotted lower-case names, or a prefix ending in '.*'"
            )

        def register(fn: Handler) -> Handler:
            if name in target and target[name] is not fn:
                raise ValueError(f"a handler for topic {topic!r} is already registered")
            target[name] = fn
            return fn

        return register

    def periodic(self, name: str, every_seconds: int) -> Callable[[Handler], Handler]:
        """Register ``fn(ctx, job)`` to run once every ``every_seconds`` (one worker per slot);
        it is delivered as topic ``periodic.<name>`` (retried and logged like any job)."""
        if not TOPIC.match(name):
            raise ValueError(f"invalid periodic job name {name!r}")
        if int(every_seconds) < 1:
            raise ValueError(f"periodic job {name!r}: every_seconds must be at least 1")

        def register(fn: Handler) -> Handler:
            job = Periodic(name, int(every_seconds), fn)
            if name in self._periodic and self._periodic[name].fn is not fn:
                raise ValueError(f"a periodic job named {name!r} is already registered")
            self._periodic[name] = job
            self._exact[job.topic] = fn
            return fn

        return register

    def resolve(self, topic: str) -> Handler | None:
        """The handler of ``topic``: exact first, then the longest matching prefix."""
        fn = self._exact.get(topic)
        if fn is not None:
            return fn
        best = None
        for prefix, candidate in self._prefix.items():
            if topic.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, candidate)
        return best[1] if best else None

    @property
    def periodics(self) -> MappingProxyType:
        return MappingProxyType(self._periodic)

    def topics(self) -> list[str]:
        """Registered topics, prefixes shown as ``prefix.*``."""
        return sorted([*self._exact, *(p + "*" for p in self._prefix)])
