"""The plugin lifecycle: install, upgrade, enable, disable, uninstall.

Each operation is planned first (``plan_*``: what would change, nothing written) and then
applied in ONE transaction: the plugin's definitions and option sets through the metadata
plan/apply path, its default roles, its workflows and rule sets, its data migrations, and its
row in ``xrm_plugin``. Anything failing rolls all of it back. The CLI (``xrm plugins``) and the
admin API (``/api/v1/admin/plugins``) are thin layers over this class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from packaging.version import Version

from ...metadata import store
from ...metadata.errors import PlanRefused
from ...metadata.layers import BASE, EXTENSION_PREFIX
from ...metadata.migrator import needs_sqlite_rebuild
from ...metadata.planner import MigrationPlan, Risk
from ...metadata.registry import LayerChange
from ..context import SYSTEM, Actor
from ..tables import installed_plugin
from .change import PluginChange
from .dependencies import PluginInfo, dependents
from .documents import install_workflows_and_rules
from .errors import (
    PluginDependencyError,
    PluginInvalid,
    PluginNotFound,
    PluginStateConflict,
)
from .manager import _call_one, plugin_infos, plugin_layer_changes, plugin_option_sets
from .migrations import DataMigrationContext, check_migrations, pending, run_migrations
from .ownership import data_held, owned_by
from .roles import check_roles, install_roles, plan_roles
from .state import InstalledPlugin, read_installed, touch


class PluginLifecycle:
    def __init__(self, platform: Any):
        self.platform = platform
        self.pm = platform.plugins
        self.registry = platform.registry
        self.engine = platform.engine

    # -- reading ------------------------------------------------------------------------------

    def infos(self) -> dict[str, PluginInfo]:
        return plugin_infos(self.pm)

    def info(self, name: str) -> PluginInfo:
        infos = self.infos()
        if name not in infos:
            raise PluginNotFound(
                f"no plugin {name!r} is loaded (loaded: {', '.join(sorted(infos)) or 'none'})",
                plugin=name,
            )
        return infos[name]

    def installed(self, conn: sa.Connection | None = None) -> dict[str, InstalledPlugin]:
        if conn is None:
            with self.engine.connect() as c:
                return read_installed(c)
        return read_installed(conn)

    def owned(self, conn: sa.Connection, name: str) -> tuple[list[str], list[tuple[str, dict]]]:
        return owned_by(self.registry, conn, name)

    # -- planning -----------------------------------------------------------------------------

    def _own_entities(self, name: str) -> set[str]:
        """The entities whose definitions the plugin contributes (not its extensions)."""
        documents = _call_one(self.pm, name, "xrm_entity_definitions") or []
        return {
            d["x-xrm"].get("name")
            for d in documents
            if isinstance(d, Mapping) and isinstance(d.get("x-xrm"), Mapping)
        }

    def _contents(self, name: str) -> tuple[list[dict], list, list[dict], list[dict]]:
        roles = check_roles(name, _call_one(self.pm, name, "xrm_default_roles"))
        migrations = check_migrations(name, _call_one(self.pm, name, "xrm_data_migrations"))
        workflows = _call_one(self.pm, name, "xrm_workflows")
        rules = _call_one(self.pm, name, "xrm_rules")
        return roles, migrations, workflows, rules

    def _check_requirements(self, info: PluginInfo, installed: dict[str, InstalledPlugin]):
        for req in info.requires:
            dep = installed.get(req.name)
            if dep is None:
                raise PluginDependencyError(
                    f"plugin {info.name!r} requires {str(req)!r}, which is not installed; "
                    f"install {req.name!r} first",
                    plugin=info.name,
                )
            if not req.allows(dep.version):
                raise PluginDependencyError(
                    f"plugin {info.name!r} requires {str(req)!r}, but {req.name} "
                    f"{dep.version} is installed; upgrade {req.name!r} first",
                    plugin=info.name,
                )
            if not dep.enabled:
                raise PluginDependencyError(
                    f"plugin {info.name!r} requires {req.name!r}, which is disabled; enable it first",
                    plugin=info.name,
                )

    def _plan_with_contents(
        self, change: PluginChange, definitions: MigrationPlan, installed_version: str | None
    ) -> PluginChange:
        roles, migrations, workflows, rules = self._contents(change.plugin)
        with self.engine.connect() as conn:
            own = self._own_entities(change.plugin) if installed_version is None else ()
            change.roles = plan_roles(conn, roles, own)
        change.definitions = definitions
        change.migrations = [
            m.as_dict() for m in pending(migrations, installed_version, change.to_version)
        ]
        change.workflows = [str(w.get("name", "?")) for w in workflows if isinstance(w, dict)]
        change.rules = [str(r.get("name", "?")) for r in rules if isinstance(r, dict)]
        return change

    def plan_install(self, name: str) -> PluginChange:
        info = self.info(name)
        installed = self.installed()
        if name in installed:
            raise PluginStateConflict(
                f"plugin {name!r} is already installed (version {installed[name].version}); "
                "use upgrade",
                plugin=name,
            )
        self._check_requirements(info, installed)
        definitions = self.registry.plan(
            changes=plugin_layer_changes(self.pm, [name]),
            option_sets=plugin_option_sets(self.pm, [name]),
            dependants=False,  # the plugin's own workflows and rule sets are installed after
        )
        change = PluginChange(name, "install", None, info.version)
        return self._plan_with_contents(change, definitions, None)

    def plan_upgrade(self, name: str) -> PluginChange:
        info = self.info(name)
        installed = self.installed()
        current = installed.get(name)
        if current is None:
            raise PluginStateConflict(f"plugin {name!r} is not installed; install it", plugin=name)
        if Version(info.version) < Version(current.version):
            raise PluginStateConflict(
                f"plugin {name!r} {info.version} is older than the installed {current.version}; "
                "downgrades are not supported",
                plugin=name,
            )
        # A loaded dependent that does not accept the new version fails at start-up already
        # (create_plugin_manager resolves the loaded plugins' requirements).
        self._check_requirements(info, installed)
        changes = plugin_layer_changes(self.pm, [name])
        with self.engine.connect() as conn:
            entities, extensions = self.owned(conn, name)
        kept = {(c.entity, c.layer) for c in changes}
        removed = [e for e in entities if (e, BASE) not in kept]
        layer = f"{EXTENSION_PREFIX}{name}"
        changes += [
            LayerChange(e, layer, f"plugin:{name}", None)
            for e, _ in extensions
            if (e, layer) not in kept and e not in removed
        ]
        definitions = self.registry.plan(
            changes=changes,
            removed=removed,
            option_sets=plugin_option_sets(self.pm, [name]),
            dependants=False,  # the plugin's own workflows and rule sets are replaced after
        )
        change = PluginChange(name, "upgrade", current.version, info.version)
        return self._plan_with_contents(change, definitions, current.version)

    def plan_uninstall(self, name: str, *, purge: bool = False) -> PluginChange:
        installed = self.installed()
        current = installed.get(name)
        if current is None:
            raise PluginStateConflict(f"plugin {name!r} is not installed", plugin=name)
        infos = self.infos()
        needed_by = dependents(infos, name, installed)
        if needed_by:
            raise PluginStateConflict(
                f"plugin {name!r} cannot be uninstalled: {', '.join(map(repr, needed_by))} "
                "depend(s) on it; uninstall those first",
                plugin=name,
            )
        with self.engine.connect() as conn:
            entities, extensions = self.owned(conn, name)
            data = data_held(self.registry, conn, entities, extensions)
        layer = f"{EXTENSION_PREFIX}{name}"
        definitions = self.registry.plan(
            changes=[LayerChange(e, layer, f"plugin:{name}", None) for e, _ in extensions],
            removed=entities,
            dependants=False,
        )
        change = PluginChange(name, "uninstall", current.version, None, definitions, data=data)
        change.purge = purge
        return change

    # -- applying -----------------------------------------------------------------------------

    def _transaction(self, plan: MigrationPlan | None, work: Callable[[sa.Connection], Any]):
        """Run ``work`` in one transaction (SQLite: with foreign keys off around it when the
        plan rebuilds tables, as the registry does). On failure nothing stays: neither rows
        nor the snapshot this process may have compiled inside the transaction."""
        with self.engine.connect() as conn:
            rebuild = (
                conn.dialect.name == "sqlite" and plan is not None and needs_sqlite_rebuild(plan)
            )
            if rebuild:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    result = work(conn)
                    if rebuild:
                        bad = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if bad:
                            raise PlanRefused(
                                f"foreign key check failed after the change: {bad[:5]}"
                            )
            except BaseException:
                self.registry.discard_snapshot()
                self._forget_states()
                raise
            finally:
                if rebuild:
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        self.registry.snapshot()
        return result

    def _forget_states(self) -> None:
        states = getattr(self.platform, "plugin_states", None)
        if states is not None:
            states.forget()

    def _apply_definitions(self, conn, change: PluginChange, actor: Actor) -> None:
        if change.has_definition_changes:
            self.registry.apply_in(conn, change.definitions, confirm=True, actor=actor.username)
        else:
            touch(conn)  # every process re-reads the plugin states

    def _locked_state(self, conn) -> dict[str, InstalledPlugin]:
        store.lock_version(conn)  # serialises lifecycle operations and metadata applies
        return read_installed(conn)

    def _install_contents(self, conn, change: PluginChange, actor: Actor, from_version):
        name = change.plugin
        roles, migrations, workflows, rules = self._contents(name)
        snap = self.registry.snapshot(conn)
        unknown = sorted(
            {e for r in roles for e in [*r.get("permissions", {}), *r.get("scopes", {})]}
            - set(snap.entities)
        )
        if unknown:
            raise PluginInvalid(
                f"plugin {name!r} declares roles on entities that do not exist: {', '.join(unknown)}",
                plugin=name,
            )
        first = from_version is None
        install_roles(conn, roles, self._own_entities(name) if first else (), extend_existing=first)
        change.warnings += install_workflows_and_rules(conn, self.platform, name, workflows, rules)

        def context() -> DataMigrationContext:
            return DataMigrationContext(
                self.platform,
                conn,
                self.platform.records,
                actor,
                name,
                from_version,
                change.to_version,
            )

        run_migrations(pending(migrations, from_version, change.to_version), context)

    @staticmethod
    def _require_confirmation(change: PluginChange, confirm: bool) -> None:
        if change.risk is not Risk.SAFE and not confirm:
            ops = [
                op.describe() for op in change.definitions.operations if op.risk_of is not Risk.SAFE
            ]
            raise PlanRefused(
                f"the {change.action} of plugin {change.plugin!r} has {change.risk.value} "
                f"operations: {'; '.join(ops)}. Confirm to apply."
            )

    def install(self, name: str, *, actor: Actor = SYSTEM, confirm: bool = False) -> PluginChange:
        change = self.plan_install(name)
        self._require_confirmation(change, confirm)

        def work(conn):
            if name in self._locked_state(conn):
                raise PluginStateConflict(f"plugin {name!r} was installed meanwhile", plugin=name)
            self._apply_definitions(conn, change, actor)
            self._install_contents(conn, change, actor, None)
            conn.execute(
                installed_plugin.insert().values(
                    name=name,
                    version=change.to_version,
                    enabled=True,
                    installed_at=store.utcnow(),
                    installed_by=actor.username,
                )
            )

        self._transaction(change.definitions, work)
        change.applied = True
        return change

    def upgrade(self, name: str, *, actor: Actor = SYSTEM, confirm: bool = False) -> PluginChange:
        change = self.plan_upgrade(name)
        self._require_confirmation(change, confirm)

        def work(conn):
            state = self._locked_state(conn).get(name)
            if state is None or state.version != change.from_version:
                raise PluginStateConflict(
                    f"plugin {name!r} changed meanwhile; plan the upgrade again", plugin=name
                )
            self._apply_definitions(conn, change, actor)
            self._install_contents(conn, change, actor, change.from_version)
            conn.execute(
                installed_plugin.update()
                .where(installed_plugin.c.name == name)
                .values(
                    version=change.to_version,
                    upgraded_at=store.utcnow(),
                    upgraded_by=actor.username,
                )
            )

        self._transaction(change.definitions, work)
        change.applied = True
        return change

    def set_enabled(self, name: str, enabled: bool, *, actor: Actor = SYSTEM) -> PluginChange:
        """Enable or disable an installed plugin. Its data and definitions stay; a disabled
        plugin's hooks are not called and its menus, views and dashboards are hidden."""
        action = "enable" if enabled else "disable"

        def work(conn):
            installed = self._locked_state(conn)
            state = installed.get(name)
            if state is None:
                raise PluginStateConflict(f"plugin {name!r} is not installed", plugin=name)
            infos = self.infos()
            if enabled and name in infos:
                self._check_requirements(infos[name], installed)
            if not enabled:
                active = [n for n in installed if installed[n].enabled]
                needed_by = dependents(infos, name, active)
                if needed_by:
                    raise PluginStateConflict(
                        f"plugin {name!r} cannot be disabled: {', '.join(map(repr, needed_by))} "
                        "depend(s) on it; disable those first",
                        plugin=name,
                    )
            conn.execute(
                installed_plugin.update()
                .where(installed_plugin.c.name == name)
                .values(enabled=enabled)
            )
            touch(conn)
            return state

        state = self._transaction(None, work)
        change = PluginChange(name, action, state.version, state.version, applied=True)
        if state.enabled == enabled:
            change.warnings.append(f"plugin {name!r} was already {action}d")
        return change

    def uninstall(self, name: str, *, purge: bool = False, actor: Actor = SYSTEM) -> PluginChange:
        """Remove the plugin's entities (archived: tables renamed and hidden, never dropped)
        and extension fields, and its row. Refused while they hold data unless ``purge``."""
        change = self.plan_uninstall(name, purge=purge)
        self._refuse_data_loss(change)

        def work(conn):
            if name not in self._locked_state(conn):
                raise PluginStateConflict(f"plugin {name!r} is not installed", plugin=name)
            entities, extensions = self.owned(conn, name)
            held = data_held(self.registry, conn, entities, extensions)
            if held != change.data:
                change.data = held
                self._refuse_data_loss(change)
            self._apply_definitions(conn, change, actor)
            conn.execute(installed_plugin.delete().where(installed_plugin.c.name == name))
            et = store.entity
            change.archived_tables = [
                t
                for t in conn.execute(
                    sa.select(et.c.archived_table).where(
                        et.c.name.in_(list(change.definitions.removed))
                    )
                ).scalars()
                if t
            ]

        self._transaction(change.definitions, work)
        change.applied = True
        return change

    @staticmethod
    def _refuse_data_loss(change: PluginChange) -> None:
        if change.data and not change.purge:
            held = ", ".join(f"{k} ({n} rows)" for k, n in change.data.items())
            raise PluginStateConflict(
                f"plugin {change.plugin!r} cannot be uninstalled while its entities hold data: "
                f"{held}. Ask for purge to archive them (tables are renamed and kept, not dropped)",
                plugin=change.plugin,
                details={"data": change.data},
            )


__all__ = ["PluginLifecycle"]
