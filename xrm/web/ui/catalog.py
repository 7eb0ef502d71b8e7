"""Plugin-declared UI documents: dashboards (``xrm_dashboards``) and shared views
(``xrm_views``), collected from the active plugins on each call (cheap: plain lists)."""

from __future__ import annotations

from typing import Any

from ...core.plugins import plugin_contributions
from ...core.security.access import Access
from ...metadata.compiler import MetadataSnapshot


def dashboards(pm: Any) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for plugin, doc in plugin_contributions(pm, "xrm_dashboards"):
        if isinstance(doc, dict) and isinstance(doc.get("name"), str):
            out.setdefault(doc["name"], {**doc, "plugin": plugin})
    return out


def plugin_views(pm: Any) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for plugin, doc in plugin_contributions(pm, "xrm_views"):
        if isinstance(doc, dict) and isinstance(doc.get("name"), str) and doc.get("entity"):
            out.setdefault(doc["name"], {**doc, "plugin": plugin})
    return out


def dashboard_visible(doc: dict, snapshot: MetadataSnapshot, access: Access) -> bool:
    """A dashboard shows when the user may read at least one of its charts' entities."""
    return any(
        isinstance(c, dict) and c.get("entity") in snapshot and access.can(c["entity"], "read")
        for c in doc.get("charts", ())
    )


def workflows_for(pm: Any, entity: str) -> list[dict]:
    """The workflows bound to ``entity``, by name, in the shape the pages use
    (``{"name", "label", "stateField", "states": [{name, label, color, final}]}``), from the
    workflow documents plugins ship (``xrm_workflows``)."""
    found = [
        workflow_shape(doc)
        for _plugin, doc in plugin_contributions(pm, "xrm_workflows")
        if isinstance(doc, dict) and doc.get("entity") == entity and doc.get("stateField")
    ]
    return sorted(found, key=lambda w: w["name"] or "")


def workflow_shape(doc: dict) -> dict:
    states = doc.get("states") or {}
    if isinstance(states, dict):
        items = [{"name": k, **(v if isinstance(v, dict) else {})} for k, v in states.items()]
    else:
        items = [s for s in states if isinstance(s, dict)]
    return {
        "name": doc.get("name"),
        "label": doc.get("label") or doc.get("name"),
        "stateField": doc["stateField"],
        "states": [
            {
                "name": s.get("name"),
                "label": s.get("label") or s.get("name"),
                "color": s.get("color") or s.get("colour"),
                "final": bool(s.get("final")),
            }
            for s in items
        ],
    }
