"""``GET /api/v1/data/<entity>/aggregate``: grouped counts and sums for charts and dashboards,
through the same query context as lists (filters, scopes and field security in SQL)."""

from __future__ import annotations

from flask import current_app, jsonify, request

from ...core.query.aggregate import run_aggregate
from ..auth import current_actor
from . import api
from .data import query_scopes


@api.get("/data/<entity>/aggregate")
def aggregate_records(entity: str):
    p = current_app.extensions["xrm"]
    actor = current_actor()
    with p.engine.begin() as conn:
        access = p.records.access(conn, actor)
        snap = p.registry.snapshot(conn)
        snap.entity(entity)
        access.require(entity, "read")
        scopes, hidden = query_scopes(access, snap)
        result = run_aggregate(conn, snap, entity, request.args, scopes=scopes, hidden=hidden)
    return jsonify(result.as_dict())
