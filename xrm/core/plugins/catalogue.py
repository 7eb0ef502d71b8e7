"""What the CLI and the admin API show about plugins: loaded, installed, their state."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from .dependencies import dependents
from .errors import PluginNotFound
from .lifecycle import PluginLifecycle
from .manager import _call_one, plugin_names


def _status(loaded, installed, disabled_by_env: bool) -> str:
    if installed is None:
        return "available"
    if loaded is None:
        return "missing"  # installed, but its package is gone (or denied)
    if not installed.enabled:
        return "disabled"
    if disabled_by_env:
        return "off-by-env"
    if Version(loaded.version) > Version(installed.version):
        return "upgradable"
    return "installed"


def _entry(name: str, infos, installed, env_disabled) -> dict[str, Any]:
    info = infos.get(name)
    state = installed.get(name)
    return {
        "name": name,
        "label": info.label if info else name,
        "description": info.description if info else "",
        "version": info.version if info else None,
        "requires": [str(r) for r in info.requires] if info else [],
        "requiredBy": dependents(infos, name, infos),
        "status": _status(info, state, name in env_disabled),
        "installed": state.as_dict() if state else None,
    }


def catalogue(platform: Any) -> list[dict[str, Any]]:
    """Every loaded plugin in dependency order, then installed ones that are not loaded."""
    lc = PluginLifecycle(platform)
    infos = lc.infos()
    installed = lc.installed()
    env = platform.settings.plugins_disabled
    names = plugin_names(lc.pm) + sorted(n for n in installed if n not in infos)
    return [_entry(n, infos, installed, env) for n in names]


def describe(platform: Any, name: str) -> dict[str, Any]:
    """One plugin: its catalogue entry, what it owns in the database, what it contributes."""
    lc = PluginLifecycle(platform)
    infos = lc.infos()
    installed = lc.installed()
    if name not in infos and name not in installed:
        raise PluginNotFound(f"no plugin {name!r} is loaded or installed", plugin=name)
    out = _entry(name, infos, installed, platform.settings.plugins_disabled)
    with lc.engine.connect() as conn:
        entities, extensions = lc.owned(conn, name)
    out["entities"] = entities
    out["extends"] = [e for e, _ in extensions]
    if name in infos:
        out["contributes"] = {
            hook.removeprefix("xrm_"): [
                item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
                for item in _call_one(lc.pm, name, hook)
            ]
            for hook in (
                "xrm_entity_definitions",
                "xrm_default_roles",
                "xrm_workflows",
                "xrm_rules",
                "xrm_menus",
                "xrm_views",
                "xrm_dashboards",
                "xrm_data_migrations",
            )
        }
        out["contributes"]["entity_definitions"] = [
            (d.get("x-xrm") or {}).get("name")
            for d in _call_one(lc.pm, name, "xrm_entity_definitions")
        ]
        out["contributes"]["data_migrations"] = [
            str(m.get("version")) for m in _call_one(lc.pm, name, "xrm_data_migrations")
        ]
    return out
