"""The navigation menu, built per request from the current snapshot and the user's rights.

Flask-AppBuilder builds its menu once at start-up; entities come and go at run time, so the
generated UI renders its own: plugin ``xrm_menus`` groups first (in their ``order``), then every
other readable entity grouped by its namespace (``crm.lead`` -> the ``crm`` plugin's label).
Items the user may not read are left out, and empty groups with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...core.plugins import plugin_contributions
from ...core.plugins.manager import plugin_names
from ...core.security.access import Access
from ...metadata.compiler import MetadataSnapshot
from . import catalog


@dataclass
class MenuItem:
    label: str
    url: str
    kind: str  # entity | view | dashboard
    key: str


@dataclass
class MenuGroup:
    name: str
    label: str
    order: int = 1000
    items: list[MenuItem] = field(default_factory=list)


def plugin_labels(pm: Any) -> dict[str, str]:
    labels = {}
    for name in plugin_names(pm):
        try:
            infos = getattr(pm.get_plugin(name), "xrm_plugin_info", None)
            info = infos() if callable(infos) else None
        except Exception:
            info = None
        if isinstance(info, dict) and info.get("label"):
            labels[name] = str(info["label"])
    return labels


def build_menu(pm: Any, snapshot: MetadataSnapshot, access: Access, urls: Any) -> list[MenuGroup]:
    """``urls`` maps (kind, key) to a URL (kept out so this stays free of Flask)."""
    groups: dict[str, MenuGroup] = {}
    placed: set[str] = set()
    dashboards = catalog.dashboards(pm)
    views = catalog.plugin_views(pm)
    for _plugin, menu in plugin_contributions(pm, "xrm_menus"):
        if not isinstance(menu, dict) or not menu.get("name"):
            continue
        group = groups.setdefault(
            menu["name"],
            MenuGroup(
                menu["name"], str(menu.get("label") or menu["name"]), int(menu.get("order", 100))
            ),
        )
        for item in menu.get("items", ()):
            if not isinstance(item, dict):
                continue
            if "entity" in item:
                name = item["entity"]
                placed.add(name)
                if name in snapshot and access.can(name, "read"):
                    label = item.get("label") or snapshot.entity(name).definition.label_plural
                    group.items.append(MenuItem(label, urls("entity", name), "entity", name))
            elif "dashboard" in item:
                d = dashboards.get(item["dashboard"])
                if d and catalog.dashboard_visible(d, snapshot, access):
                    label = item.get("label") or d.get("label") or d["name"]
                    group.items.append(
                        MenuItem(label, urls("dashboard", d["name"]), "dashboard", d["name"])
                    )
            elif "view" in item:
                v = views.get(item["view"])
                if v and v.get("entity") in snapshot and access.can(v["entity"], "read"):
                    label = item.get("label") or v.get("label") or v["name"]
                    group.items.append(MenuItem(label, urls("view", v["name"]), "view", v["name"]))
    labels = plugin_labels(pm)
    for name, ce in snapshot.entities.items():
        if name in placed or not access.can(name, "read"):
            continue
        ns = name.split(".", 1)[0]
        group = groups.setdefault(
            ns, MenuGroup(ns, labels.get(ns, ns.upper() if len(ns) <= 3 else ns.title()))
        )
        group.items.append(
            MenuItem(ce.definition.label_plural, urls("entity", name), "entity", name)
        )
    for d in dashboards.values():
        if any(
            i.kind == "dashboard" and i.key == d["name"] for g in groups.values() for i in g.items
        ):
            continue
        if catalog.dashboard_visible(d, snapshot, access):
            ns = d["name"].split(".", 1)[0]
            group = groups.setdefault(ns, MenuGroup(ns, labels.get(ns, ns.title())))
            group.items.append(
                MenuItem(
                    d.get("label") or d["name"],
                    urls("dashboard", d["name"]),
                    "dashboard",
                    d["name"],
                )
            )
    return sorted((g for g in groups.values() if g.items), key=lambda g: (g.order, g.label.lower()))
