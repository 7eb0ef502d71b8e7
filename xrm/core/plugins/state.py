"""Which plugins are installed and enabled (the ``xrm_plugin`` table), and the hook relay that
calls only theirs.

A loaded plugin takes part (its hooks are called, its menus, views and dashboards shown) when
it is installed and enabled, and not switched off for this process by ``XRM_DISABLE_PLUGIN``.
Every lifecycle change bumps the metadata version in its transaction, so each process notices
it on its next request (the record service reads the version anyway) and re-reads the table
once; between changes, asking who is active costs no query.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
import sqlalchemy as sa

from ...metadata import store
from ...metadata.registry import MetadataRegistry
from ..tables import installed_plugin
from .manager import plugin_contributions, plugin_names


@dataclass(frozen=True)
class InstalledPlugin:
    name: str
    version: str
    enabled: bool
    installed_at: dt.datetime
    installed_by: str
    upgraded_at: dt.datetime | None = None
    upgraded_by: str | None = None
    demo_loaded_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        def iso(v):
            return v.isoformat() + "Z" if v else None

        return {
            "installedVersion": self.version,
            "enabled": self.enabled,
            "installedAt": iso(self.installed_at),
            "installedBy": self.installed_by,
            "upgradedAt": iso(self.upgraded_at),
            "upgradedBy": self.upgraded_by,
            "demoLoadedAt": iso(self.demo_loaded_at),
        }


def read_installed(conn: sa.Connection) -> dict[str, InstalledPlugin]:
    rows = conn.execute(sa.select(installed_plugin).order_by(installed_plugin.c.name))
    return {r.name: InstalledPlugin(**r._mapping) for r in rows}


def touch(conn: sa.Connection) -> None:
    """Bump the metadata version inside the caller's transaction so that every process
    re-reads which plugins take part."""
    store.bump_version(conn, store.lock_version(conn))


@dataclass(frozen=True)
class _Cached:
    version: int
    installed: dict[str, InstalledPlugin] = field(default_factory=dict)
    active: tuple[str, ...] = ()
    inactive: tuple[str, ...] = ()


class PluginStates:
    """The installed plugins as this process last read them, kept current by the metadata
    version (see the module docstring)."""

    def __init__(
        self,
        engine: sa.Engine,
        registry: MetadataRegistry,
        pm: pluggy.PluginManager,
        disabled_by_environment: Iterable[str] = (),
    ):
        self.engine = engine
        self.registry = registry
        self.pm = pm
        self.disabled_by_environment = frozenset(disabled_by_environment)
        self.order = plugin_names(pm)  # the loaded plugins are fixed once the app is built
        self._cached: _Cached | None = None
        self._lock = threading.Lock()

    def _current(self) -> _Cached:
        snap = self.registry.current
        cached = self._cached
        if cached is not None and snap is not None and cached.version == snap.version:
            return cached
        # Version and rows read on one connection: a consistent, committed pair.
        with self.engine.connect() as conn:
            version = store.read_version(conn)
            installed = read_installed(conn)
        active = tuple(
            n
            for n in self.order
            if n in installed and installed[n].enabled and n not in self.disabled_by_environment
        )
        fresh = _Cached(version, installed, active, tuple(n for n in self.order if n not in active))
        with self._lock:
            if self._cached is None or fresh.version >= self._cached.version:
                self._cached = fresh
        return fresh

    def installed(self) -> dict[str, InstalledPlugin]:
        """The installed plugins (committed state), by name."""
        return self._current().installed

    def forget(self) -> None:
        with self._lock:
            self._cached = None

    def active(self) -> list[str]:
        """Loaded plugins that take part, in dependency order."""
        return list(self._current().active)

    def inactive(self) -> list[str]:
        return list(self._current().inactive)


class ActiveHooks:
    """``pm.hook`` restricted to the active plugins: ``hooks.xrm_after_create(event=...)``."""

    def __init__(self, pm: pluggy.PluginManager, states: PluginStates):
        self._pm = pm
        self._states = states

    def __getattr__(self, name: str):
        inactive = self._states.inactive()
        if not inactive:
            return getattr(self._pm.hook, name)
        return self._pm.subset_hook_caller(name, [self._pm.get_plugin(n) for n in inactive])


def active_contributions(platform: Any, hook: str) -> list[tuple[str, Any]]:
    """``(plugin, item)`` pairs of a list-returning hook from the active plugins only: what the
    UI uses for ``xrm_menus``, ``xrm_views`` and ``xrm_dashboards`` (a disabled plugin's
    menus and dashboards are hidden)."""
    return plugin_contributions(platform.plugins, hook, platform.plugin_states.active())
