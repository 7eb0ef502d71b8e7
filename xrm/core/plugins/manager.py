"""Plugin discovery and the plugin manager.

Plugins come from the entry-point group ``xrm.plugins`` (plus any registered explicitly, e.g.
in tests). ``XRM_PLUGINS_ALLOW`` / ``XRM_PLUGINS_DENY`` (comma-separated names) filter them.
At start-up ``check_pending()`` makes a misspelled hook fail loudly, and the declared
dependencies are resolved: a missing, circular or unsatisfied one fails with the plugin's name.
Everything that walks the plugins walks them in dependency order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import metadata, resources
from typing import Any

import pluggy

from ...metadata.layers import BASE, EXTENSION_PREFIX
from ...metadata.registry import LayerChange
from . import hookspecs
from .dependencies import PluginInfo, dependency_order, parse_info
from .errors import PluginError

ENTRY_POINT_GROUP = "xrm.plugins"


def create_plugin_manager(
    allow: Iterable[str] | None = None,
    deny: Iterable[str] = (),
    discover: bool = True,
    extra: dict[str, Any] | None = None,
) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("xrm")
    pm.add_hookspecs(hookspecs)
    allow = set(allow) if allow is not None else None
    deny = set(deny)
    if discover:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in deny or (allow is not None and ep.name not in allow):
                continue
            if pm.has_plugin(ep.name):
                continue
            pm.register(ep.load(), name=ep.name)
    for name, plugin in (extra or {}).items():
        if name not in deny:
            pm.register(plugin, name=name)
    pm.check_pending()
    plugin_names(pm)  # resolves the dependencies: a missing or circular one fails here
    return pm


def plugin_infos(pm: pluggy.PluginManager) -> dict[str, PluginInfo]:
    """Each loaded plugin's checked declaration (``xrm_plugin_info``), by name."""
    out = {}
    for name, _ in pm.list_name_plugin():
        declared = _call_one(pm, name, "xrm_plugin_info")
        out[name] = parse_info(name, declared[0] if declared else None)
    return out


def plugin_names(pm: pluggy.PluginManager) -> list[str]:
    """The loaded plugins in dependency order (a plugin after those it requires)."""
    return dependency_order(plugin_infos(pm))


def _call_one(pm: pluggy.PluginManager, name: str, hook: str) -> list:
    plugin = pm.get_plugin(name)
    impls = [i for i in getattr(pm.hook, hook).get_hookimpls() if i.plugin is plugin]
    out = []
    for impl in impls:
        result = impl.function()
        if result:
            out.extend(result if isinstance(result, list) else [result])
    return out


def plugin_contributions(
    pm: pluggy.PluginManager, hook: str, names: Iterable[str] | None = None
) -> list[tuple[str, Any]]:
    """What plugins contribute through a list-returning hook, as ``(plugin name, item)`` pairs in
    plugin order (``names`` selects and orders the plugins; default: all, in dependency
    order)."""
    return [
        (name, item)
        for name in (names if names is not None else plugin_names(pm))
        for item in _call_one(pm, name, hook)
    ]


def plugin_layer_changes(
    pm: pluggy.PluginManager, names: Iterable[str] | None = None
) -> list[LayerChange]:
    """The definition layers plugins contribute: base layers and extensions."""
    changes = []
    for name in names if names is not None else plugin_names(pm):
        source = f"plugin:{name}"
        for doc in _call_one(pm, name, "xrm_entity_definitions"):
            try:
                entity = doc["x-xrm"]["name"]
            except (KeyError, TypeError):
                raise PluginError(
                    f"plugin {name!r} returned a definition without x-xrm.name"
                ) from None
            changes.append(LayerChange(entity, BASE, source, doc))
        for ext in _call_one(pm, name, "xrm_entity_extensions"):
            ext = dict(ext)
            entity = ext.pop("entity", None)
            if not entity:
                raise PluginError(f"plugin {name!r} returned an extension without 'entity'")
            changes.append(LayerChange(entity, f"{EXTENSION_PREFIX}{name}", source, ext))
    return changes


def plugin_option_sets(
    pm: pluggy.PluginManager, names: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """The option sets plugins contribute."""
    out = []
    for name in names if names is not None else plugin_names(pm):
        out.extend(_call_one(pm, name, "xrm_option_sets"))
    return out


def load_json_documents(package: str, folder: str = "entities") -> list[dict[str, Any]]:
    """Read every ``*.json`` file of a package folder (sorted by name)."""
    root = resources.files(package).joinpath(folder)
    docs = []
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            try:
                docs.append(json.loads(item.read_text(encoding="utf-8")))
            except ValueError as exc:
                raise PluginError(
                    f"{package}/{folder}/{item.name} is not valid JSON: {exc}"
                ) from None
    return docs
