"""Data migrations between plugin versions (``xrm_data_migrations``).

On install every migration up to the plugin's version runs (an install is an upgrade from
nothing, so a migration that seeds reference data runs exactly once either way); on upgrade
those with ``installed < version <= new``. They run in version order, after the definitions,
in the lifecycle operation's transaction: one failing rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from packaging.version import Version

from ..context import Actor
from .dependencies import parse_version
from .errors import PluginInvalid


@dataclass(frozen=True)
class DataMigration:
    plugin: str
    version: Version
    description: str
    run: Callable[[DataMigrationContext], Any]

    def as_dict(self) -> dict[str, str]:
        return {"version": str(self.version), "description": self.description}


@dataclass(frozen=True)
class DataMigrationContext:
    """What a data migration's ``run(context)`` receives. Write records through ``records``
    (the one write path) on ``conn``; ``sql`` is there for bulk statements on the plugin's own
    tables when the record service would be too slow."""

    platform: Any
    conn: sa.Connection
    records: Any
    actor: Actor
    plugin: str
    from_version: str | None
    to_version: str

    def table(self, entity: str) -> sa.Table:
        """The SQLAlchemy table of an entity, as compiled at this point of the upgrade."""
        return self.platform.registry.snapshot(self.conn).entity(entity).table


def check_migrations(plugin: str, items: Iterable[Any]) -> list[DataMigration]:
    out, problems = [], []
    for i, item in enumerate(items):
        where = f"plugin {plugin!r}, xrm_data_migrations()[{i}]"
        if not isinstance(item, Mapping) or "version" not in item:
            problems.append(f"{where}: expected an object with 'version' and 'run'")
            continue
        if not callable(item.get("run")):
            problems.append(f"{where} (version {item['version']}): 'run' must be a callable")
            continue
        try:
            version = parse_version(plugin, item["version"])
        except PluginInvalid as exc:
            problems.append(f"{where}: {exc}")
            continue
        out.append(DataMigration(plugin, version, str(item.get("description", "")), item["run"]))
    seen: dict[Version, int] = {}
    for m in out:
        seen[m.version] = seen.get(m.version, 0) + 1
    problems += [
        f"plugin {plugin!r} declares {n} data migrations for version {v}; one per version"
        for v, n in seen.items()
        if n > 1
    ]
    if problems:
        raise PluginInvalid("; ".join(problems), plugin=plugin, details={"problems": problems})
    return sorted(out, key=lambda m: m.version)


def pending(
    migrations: list[DataMigration], installed: str | None, target: str
) -> list[DataMigration]:
    """Those with ``installed < version <= target`` (all up to ``target`` on install)."""
    low = Version(installed) if installed is not None else None
    high = Version(target)
    return [m for m in migrations if (low is None or m.version > low) and m.version <= high]


def run_migrations(
    migrations: list[DataMigration], make_context: Callable[[], DataMigrationContext]
) -> list[dict[str, str]]:
    ran = []
    for m in migrations:
        m.run(make_context())
        ran.append(m.as_dict())
    return ran
