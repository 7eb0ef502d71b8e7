"""Configuration of the jobs: from the application's config mapping (``JOBS``, ``SMTP_HOST``...)
or ``XRM_*`` environment variables, the mapping winning.

| variable                  | meaning                                                  | default |
|---------------------------|----------------------------------------------------------|---------|
| XRM_JOBS                  | ``inline`` (thread in the app), ``worker`` (``xrm worker``), ``celery`` | inline |
| XRM_JOBS_MAX_ATTEMPTS     | attempts before a message goes to the dead letters       | 8       |
| XRM_JOBS_BACKOFF_SECONDS  | first retry delay; doubles per attempt, with jitter     | 10      |
| XRM_JOBS_BACKOFF_MAX      | longest retry delay (seconds)                            | 3600    |
| XRM_JOBS_LEASE_SECONDS    | a claimed message is claimed again after this (crashed worker) | 300 |
| XRM_JOBS_POLL_SECONDS     | idle wait between two looks at the outbox                | 1       |
| XRM_JOBS_BATCH            | messages claimed at once                                 | 20      |
| XRM_CELERY_BROKER         | Celery broker URL (redis://... or amqp://...)            | redis://127.0.0.1:6379/0 |
| XRM_CELERY_QUEUE          | Celery queue of the jobs                                 | xrm.jobs |
| XRM_SMTP_HOST / _PORT     | SMTP server                                              | 127.0.0.1 / 25 |
| XRM_SMTP_USER / _PASSWORD | SMTP login (none: no login)                              |         |
| XRM_SMTP_FROM             | sender address                                           | xrm@localhost |
| XRM_SMTP_TLS              | ``none``, ``starttls`` or ``ssl``                        | none    |
| XRM_SMTP_CA_FILE          | PEM file of the CA(s) to trust for the server's certificate (a private CA or a self-signed certificate) | system CAs |
| XRM_SMTP_TIMEOUT          | seconds                                                  | 30      |
| XRM_WEBHOOK_SECRET        | HMAC key of webhooks that name no secret of their own    | (unsigned) |
| XRM_WEBHOOK_TIMEOUT       | seconds                                                  | 10      |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import JobConfigError

MODES = ("inline", "worker", "celery")
TLS_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "xrm@localhost"
    tls: str = "none"
    timeout: float = 30.0
    #: PEM file of the certificate authorities trusted for the server (None: the system's).
    ca_file: str | None = None


@dataclass(frozen=True)
class JobConfig:
    mode: str = "inline"
    max_attempts: int = 8
    backoff_seconds: float = 10.0
    backoff_max: float = 3600.0
    lease_seconds: float = 300.0
    poll_seconds: float = 1.0
    batch: int = 20
    celery_broker: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = "xrm.jobs"
    smtp: SmtpConfig = SmtpConfig()
    webhook_secret: str | None = None
    webhook_timeout: float = 10.0

    @classmethod
    def load(
        cls, config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> JobConfig:
        config = config or {}
        env = os.environ if env is None else env

        def raw(name: str) -> Any:
            if name in config and config[name] is not None:
                return config[name]
            value = env.get(f"XRM_{name}")
            return None if value is None or value == "" else value

        def text(name: str, default: str | None) -> str | None:
            value = raw(name)
            return default if value is None else str(value)

        def number(name: str, default: float, kind=float, minimum: float = 0) -> Any:
            value = raw(name)
            if value is None:
                return default
            try:
                out = kind(value)
            except (TypeError, ValueError):
                raise JobConfigError(
                    f"XRM_{name} must be a {'whole ' if kind is int else ''}number, not {value!r}"
                ) from None
            if out < minimum:
                raise JobConfigError(f"XRM_{name} must be at least {minimum}, not {value!r}")
            return out

        mode = text("JOBS", "inline").lower()
        if mode not in MODES:
            raise JobConfigError(f"XRM_JOBS must be one of {', '.join(MODES)}, not {mode!r}")
        tls = text("SMTP_TLS", "none").lower()
        if tls not in TLS_MODES:
            raise JobConfigError(f"XRM_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        return cls(
            mode=mode,
            max_attempts=number("JOBS_MAX_ATTEMPTS", 8, int, 1),
            backoff_seconds=number("JOBS_BACKOFF_SECONDS", 10.0),
            backoff_max=number("JOBS_BACKOFF_MAX", 3600.0),
            lease_seconds=number("JOBS_LEASE_SECONDS", 300.0, float, 1),
            poll_seconds=number("JOBS_POLL_SECONDS", 1.0, float, 0.01),
            batch=number("JOBS_BATCH", 20, int, 1),
            celery_broker=text("CELERY_BROKER", "redis://127.0.0.1:6379/0"),
            celery_queue=text("CELERY_QUEUE", "xrm.jobs"),
            smtp=SmtpConfig(
                host=text("SMTP_HOST", "127.0.0.1"),
                port=number("SMTP_PORT", 25, int, 1),
                user=text("SMTP_USER", None),
                password=text("SMTP_PASSWORD", None),
                sender=text("SMTP_FROM", "xrm@localhost"),
                tls=tls,
                timeout=number("SMTP_TIMEOUT", 30.0, float, 0.1),
                ca_file=text("SMTP_CA_FILE", None),
            ),
            webhook_secret=text("WEBHOOK_SECRET", None),
            webhook_timeout=number("WEBHOOK_TIMEOUT", 10.0, float, 0.1),
        )
