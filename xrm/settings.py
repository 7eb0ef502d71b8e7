"""Configuration from ``XRM_*`` environment variables (and an optional mapping of overrides).

| variable              | meaning                                   | default                        |
|-----------------------|-------------------------------------------|--------------------------------|
| XRM_DATABASE_URL      | SQLAlchemy URL (sqlite or postgresql)     | sqlite file in the instance dir|
| XRM_SECRET_KEY        | session/JWT signing key                   | random, kept in instance dir   |
| XRM_PLUGINS_ALLOW     | comma-separated plugin names to load      | all installed                  |
| XRM_PLUGINS_DENY      | comma-separated plugin names to skip      | none                           |
| XRM_DISABLE_PLUGIN    | plugin name(s) whose hooks this process   | none                           |
|                       | does not call, whatever the database says |                                |
| XRM_INSTANCE_PATH     | folder for the SQLite file and secrets    | ./instance                     |
| XRM_AUDIT_RETENTION_DAYS | days audit entries are kept; older ones | 0: kept forever                |
|                       | are deleted by the periodic job           |                                |
|                       | ``audit.retention`` and `xrm audit purge` |                                |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _names(value: str | None) -> tuple[str, ...] | None:
    if value is None or value.strip() == "":
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str
    plugins_allow: tuple[str, ...] | None = None
    plugins_deny: tuple[str, ...] = ()
    plugins_disabled: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Days audit entries are kept (0: forever).
    audit_retention_days: int = 0

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        env = os.environ if env is None else env
        o = dict(overrides or {})
        instance = Path(
            o.pop("INSTANCE_PATH", None) or env.get("XRM_INSTANCE_PATH") or Path.cwd() / "instance"
        )
        instance.mkdir(parents=True, exist_ok=True)
        url = (
            o.pop("DATABASE_URL", None)
            or env.get("XRM_DATABASE_URL")
            or f"sqlite:///{instance / 'xrm.sqlite'}"
        )
        secret = (
            o.pop("SECRET_KEY", None) or env.get("XRM_SECRET_KEY") or _instance_secret(instance)
        )
        allow = o.pop("PLUGINS_ALLOW", None)
        allow = tuple(allow) if allow is not None else _names(env.get("XRM_PLUGINS_ALLOW"))
        deny = tuple(o.pop("PLUGINS_DENY", None) or _names(env.get("XRM_PLUGINS_DENY")) or ())
        disabled = tuple(
            o.pop("DISABLE_PLUGIN", None) or _names(env.get("XRM_DISABLE_PLUGIN")) or ()
        )
        retention = _days(o.pop("AUDIT_RETENTION_DAYS", None), env.get("XRM_AUDIT_RETENTION_DAYS"))
        return cls(instance, url, secret, allow, deny, disabled, o, retention)


def _days(override: Any, value: str | None) -> int:
    raw = override if override is not None else (value or "").strip() or 0
    try:
        days = int(raw)
    except (TypeError, ValueError):
        days = -1
    if days < 0:
        raise ValueError(
            f"XRM_AUDIT_RETENTION_DAYS must be a whole number of days (0: keep forever), not {raw!r}"
        )
    return days


def _instance_secret(instance: Path) -> str:
    """A random key generated once per instance folder (never a fixed default)."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
