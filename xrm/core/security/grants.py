"""Managing what roles may do: entity grants, record scopes, field-level security.

The functions the admin API and CLI call; each works inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from ..records.errors import RecordInvalid
from ..tables import field_permission, record_scope
from .access import SCOPES
from .permissions import (
    ENTITY_ACTIONS,
    _get_or_create,
    assoc_permissionview_role,
    entity_view_name,
    permission_t,
    permission_view_t,
    role_t,
    view_menu_t,
)


def ensure_role(conn: sa.Connection, role: str) -> int:
    return _get_or_create(conn, role_t, name=role)


def _pv_id(conn: sa.Connection, entity: str, action: str) -> int:
    if action not in ENTITY_ACTIONS:
        raise RecordInvalid(f"unknown action {action!r}; one of {', '.join(ENTITY_ACTIONS)}")
    view_id = _get_or_create(conn, view_menu_t, name=entity_view_name(entity))
    perm_id = _get_or_create(conn, permission_t, name=f"can_{action}")
    return _get_or_create(conn, permission_view_t, permission_id=perm_id, view_menu_id=view_id)


def grant(conn: sa.Connection, role: str, entity: str, actions: Iterable[str]) -> None:
    role_id = ensure_role(conn, role)
    for action in actions:
        pv = _pv_id(conn, entity, action)
        t = assoc_permissionview_role
        if (
            conn.execute(
                sa.select(t.c.id).where(t.c.permission_view_id == pv, t.c.role_id == role_id)
            ).first()
            is None
        ):
            conn.execute(t.insert().values(permission_view_id=pv, role_id=role_id))


def revoke(conn: sa.Connection, role: str, entity: str, actions: Iterable[str]) -> None:
    role_id = ensure_role(conn, role)
    for action in actions:
        pv = _pv_id(conn, entity, action)
        t = assoc_permissionview_role
        conn.execute(t.delete().where(t.c.permission_view_id == pv, t.c.role_id == role_id))


def set_scope(conn: sa.Connection, role: str, entity: str, scope: str) -> None:
    if scope not in SCOPES:
        raise RecordInvalid(f"unknown record scope {scope!r}; one of {', '.join(SCOPES)}")
    conn.execute(
        record_scope.delete().where(record_scope.c.role == role, record_scope.c.entity == entity)
    )
    conn.execute(record_scope.insert().values(role=role, entity=entity, scope=scope))


def secure_field(
    conn: sa.Connection, role: str, entity: str, field: str, *, read: bool, write: bool
) -> None:
    """Make ``entity.field`` secured (only roles with a row may read/write it) and set ``role``'s rights."""
    t = field_permission
    conn.execute(t.delete().where(t.c.role == role, t.c.entity == entity, t.c.field == field))
    conn.execute(
        t.insert().values(
            role=role, entity=entity, field=field, can_read=read, can_write=write or False
        )
    )
