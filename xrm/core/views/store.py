"""Storage and rules of saved views.

A view belongs to its creator. A personal view is seen by its owner only; a shared view by every
user who may read its entity. Only administrators share views (or change shared ones); owners
change and delete their own. The query is checked against the entity with the list grammar
(docs/api.md) when the view is saved, so a stored view always opens.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..context import Actor
from ..query import InvalidQuery, QueryContext, parse_query, plan_query
from ..records.errors import RecordError, RecordNotFound
from ..security.access import Access, AccessDenied

VIEW_METADATA = sa.MetaData()
KINDS = ("list", "kanban")

saved_view = sa.Table(
    "xrm_saved_view",
    VIEW_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(60), nullable=False),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False, server_default="list"),
    sa.Column("columns", sa.Text, nullable=False, server_default="[]"),
    sa.Column("query", sa.Text, nullable=False, server_default=""),
    sa.Column("group_by", sa.String(63), nullable=True),
    sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("owner_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_xrm_saved_view_entity", "entity", "owner_id"),
)


class SavedViewError(RecordError):
    status = 422
    title = "Invalid view"


def install(conn: sa.Connection) -> None:
    VIEW_METADATA.create_all(conn, checkfirst=True)


def _row_json(row: Any) -> dict:
    return {
        "id": row.id,
        "entity": row.entity,
        "label": row.label,
        "kind": row.kind,
        "columns": json.loads(row.columns or "[]"),
        "query": row.query,
        "groupBy": row.group_by,
        "shared": bool(row.shared),
        "ownerId": row.owner_id,
        "source": "user",
    }


def list_views(
    conn: sa.Connection, actor: Actor, access: Access, entity: str | None = None
) -> list[dict]:
    """The caller's personal views and the shared ones, of entities the caller may read."""
    t = saved_view
    q = sa.select(t).where(sa.or_(t.c.shared.is_(True), t.c.owner_id == actor.user_id))
    if entity is not None:
        q = q.where(t.c.entity == entity)
    rows = conn.execute(q.order_by(t.c.label, t.c.id)).all()
    return [_row_json(r) for r in rows if access.can(r.entity, "read")]


def _check(body: dict, snapshot: Any, access: Access, partial: bool, current: dict | None) -> dict:
    problems = []
    values: dict[str, Any] = {}

    def bad(field: str, message: str) -> None:
        problems.append({"pointer": f"/{field}", "field": field, "message": message})

    allowed = {"entity", "label", "kind", "columns", "query", "groupBy", "shared"}
    for key in body:
        if key not in allowed:
            bad(key, f"unknown property; a view has {', '.join(sorted(allowed))}")
    entity = body.get("entity", current["entity"] if current else None)
    if partial and "entity" in body and current and body["entity"] != current["entity"]:
        bad("entity", "the entity of a view cannot change")
    if not isinstance(entity, str) or entity not in snapshot:
        bad("entity", f"{entity!r} is not an entity")
        raise SavedViewError("the view is invalid", problems)
    if not access.can(entity, "read"):
        raise AccessDenied(f"{access.actor.username} may not read {entity} records")
    ce = snapshot.entity(entity)
    values["entity"] = entity
    if not partial or "label" in body:
        label = body.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 100:
            bad("label", "a label of 1 to 100 characters is required")
        else:
            values["label"] = label.strip()
    if "kind" in body or not partial:
        kind = body.get("kind", "list")
        if kind not in KINDS:
            bad("kind", f"kind is one of {', '.join(KINDS)}, not {kind!r}")
        values["kind"] = kind
    hidden = access.hidden(entity)
    names = set(ce.fields) | {"id", "created_at", "updated_at"}
    if "columns" in body or not partial:
        cols = body.get("columns", [])
        if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
            bad("columns", "columns is a list of field names")
        else:
            unknown = [c for c in cols if c not in names or c in hidden]
            if unknown:
                bad("columns", f"{entity} has no readable field {', '.join(map(repr, unknown))}")
            values["columns"] = json.dumps(cols)
    if "groupBy" in body:
        group = body.get("groupBy")
        if group is not None and (group not in ce.fields or group in hidden):
            bad("groupBy", f"{entity} has no readable field {group!r}")
        values["group_by"] = group
    if "query" in body or not partial:
        text = body.get("query", "")
        if not isinstance(text, str) or len(text) > 4000:
            bad("query", "query is a query string of at most 4000 characters")
        else:
            try:
                from urllib.parse import parse_qsl

                pairs = [p for p in parse_qsl(text, keep_blank_values=True) if p[0] != "cursor"]
                ctx = QueryContext(snapshot, {}, {entity: hidden})
                plan_query(ce, parse_query(pairs), ctx)
            except InvalidQuery as exc:
                bad("query", str(exc))
            values["query"] = text
    if "shared" in body:
        if not isinstance(body["shared"], bool):
            bad("shared", "shared is true or false")
        elif body["shared"] and not access.actor.is_admin:
            raise AccessDenied("only administrators share views")
        values["shared"] = body["shared"]
    if problems:
        raise SavedViewError(f"the view of {entity} is invalid", problems)
    return values


def create_view(
    conn: sa.Connection, actor: Actor, access: Access, snapshot: Any, body: dict
) -> dict:
    values = _check(body, snapshot, access, partial=False, current=None)
    now = datetime.now(UTC).replace(tzinfo=None)
    new_id = conn.execute(
        saved_view.insert().values(**values, owner_id=actor.user_id, created_at=now, updated_at=now)
    ).inserted_primary_key[0]
    return get_view(conn, actor, access, new_id)


def get_view(conn: sa.Connection, actor: Actor, access: Access, view_id: int) -> dict:
    row = conn.execute(sa.select(saved_view).where(saved_view.c.id == view_id)).first()
    if (
        row is None
        or not (row.shared or row.owner_id == actor.user_id)
        or not access.can(row.entity, "read")
    ):
        raise RecordNotFound(f"view {view_id} does not exist")
    return _row_json(row)


def _editable(conn, actor, access, view_id) -> dict:
    view = get_view(conn, actor, access, view_id)
    if view["shared"] and not actor.is_admin:
        raise AccessDenied("only administrators change shared views")
    if not view["shared"] and view["ownerId"] != actor.user_id:
        raise AccessDenied("only the owner changes a personal view")
    return view


def update_view(
    conn: sa.Connection, actor: Actor, access: Access, snapshot: Any, view_id: int, body: dict
) -> dict:
    current = _editable(conn, actor, access, view_id)
    values = _check(body, snapshot, access, partial=True, current=current)
    values.pop("entity", None)
    values["updated_at"] = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(saved_view.update().where(saved_view.c.id == view_id).values(**values))
    return get_view(conn, actor, access, view_id)


def delete_view(conn: sa.Connection, actor: Actor, access: Access, view_id: int) -> None:
    _editable(conn, actor, access, view_id)
    conn.execute(saved_view.delete().where(saved_view.c.id == view_id))
