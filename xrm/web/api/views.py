"""Saved views: ``/api/v1/views`` (personal and shared list/board configurations), plus the
shared views plugins declare (``xrm_views``, read-only, ``source: "plugin"``)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from ...core import views as saved
from ...core.plugins import plugin_contributions
from ..auth import current_actor
from . import api, entity_arg


def _ctx():
    p = current_app.extensions["xrm"]
    return p, current_actor()


def plugin_views(pm, snapshot, access, entity: str | None = None) -> list[dict]:
    out = []
    for plugin, doc in plugin_contributions(pm, "xrm_views"):
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
            continue
        e = doc.get("entity")
        if e not in snapshot or not access.can(e, "read") or (entity and e != entity):
            continue
        out.append(
            {
                "id": f"plugin:{doc['name']}",
                "entity": e,
                "label": doc.get("label") or doc["name"],
                "kind": doc.get("kind", "list"),
                "columns": list(doc.get("columns") or []),
                "query": doc.get("query", ""),
                "groupBy": doc.get("groupBy"),
                "shared": True,
                "ownerId": None,
                "source": f"plugin:{plugin}",
            }
        )
    return out


@api.get("/views")
def list_saved_views():
    p, actor = _ctx()
    entity = entity_arg()
    with p.engine.connect() as conn:
        access = p.records.access(conn, actor)
        snap = p.registry.snapshot(conn)
        items = plugin_views(p.plugins, snap, access, entity) + saved.list_views(
            conn, actor, access, entity
        )
    return jsonify({"items": items})


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest('expected a JSON object such as {"entity", "label", "query"}')
    return body


@api.post("/views")
def create_saved_view():
    p, actor = _ctx()
    body = _body()
    with p.engine.begin() as conn:
        access = p.records.access(conn, actor)
        view = saved.create_view(conn, actor, access, p.registry.snapshot(conn), body)
    return jsonify(view), 201


@api.patch("/views/<int(max=2147483647):view_id>")
def update_saved_view(view_id: int):
    p, actor = _ctx()
    body = _body()
    with p.engine.begin() as conn:
        access = p.records.access(conn, actor)
        view = saved.update_view(conn, actor, access, p.registry.snapshot(conn), view_id, body)
    return jsonify(view)


@api.delete("/views/<int(max=2147483647):view_id>")
def delete_saved_view(view_id: int):
    p, actor = _ctx()
    with p.engine.begin() as conn:
        access = p.records.access(conn, actor)
        saved.delete_view(conn, actor, access, view_id)
    return "", 204
