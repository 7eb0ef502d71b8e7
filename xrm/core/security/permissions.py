"""Entity permissions as Flask-AppBuilder permission/view-menu pairs.

``can_read`` on ``Entity:crm.contact`` and so on, written with SQLAlchemy Core inside the
metadata apply transaction (an apply hook), so an entity never exists without its permissions.
The administrator role receives them at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)

from ...metadata.registry import AppliedChange

ENTITY_VIEW_PREFIX = "Entity:"
ENTITY_ACTIONS = ("read", "create", "update", "delete", "import", "export")
ADMIN_ROLE = "Admin"

permission_t = Permission.__table__
view_menu_t = ViewMenu.__table__
permission_view_t = PermissionView.__table__
role_t = Role.__table__


def entity_view_name(entity: str) -> str:
    return f"{ENTITY_VIEW_PREFIX}{entity}"


def _get_or_create(conn: sa.Connection, table: sa.Table, **values) -> int:
    where = [table.c[k] == v for k, v in values.items()]
    found = conn.execute(sa.select(table.c.id).where(*where)).scalar()
    if found is not None:
        return found
    return conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


def ensure_entity_permissions(
    conn: sa.Connection, entity: str, admin_role: str = ADMIN_ROLE
) -> list[int]:
    """Create the entity's permission/view-menu pairs (idempotent) and grant them to Admin."""
    view_id = _get_or_create(conn, view_menu_t, name=entity_view_name(entity))
    role_id = conn.execute(sa.select(role_t.c.id).where(role_t.c.name == admin_role)).scalar()
    ids = []
    for action in ENTITY_ACTIONS:
        perm_id = _get_or_create(conn, permission_t, name=f"can_{action}")
        pv_id = _get_or_create(conn, permission_view_t, permission_id=perm_id, view_menu_id=view_id)
        ids.append(pv_id)
        if role_id is not None:
            exists = conn.execute(
                sa.select(assoc_permissionview_role.c.id).where(
                    assoc_permissionview_role.c.permission_view_id == pv_id,
                    assoc_permissionview_role.c.role_id == role_id,
                )
            ).scalar()
            if exists is None:
                conn.execute(
                    assoc_permissionview_role.insert().values(
                        permission_view_id=pv_id, role_id=role_id
                    )
                )
    return ids


def remove_entity_permissions(conn: sa.Connection, entity: str) -> None:
    view_id = conn.execute(
        sa.select(view_menu_t.c.id).where(view_menu_t.c.name == entity_view_name(entity))
    ).scalar()
    if view_id is None:
        return
    pv_ids = sa.select(permission_view_t.c.id).where(permission_view_t.c.view_menu_id == view_id)
    conn.execute(
        assoc_permissionview_role.delete().where(
            assoc_permissionview_role.c.permission_view_id.in_(pv_ids)
        )
    )
    conn.execute(permission_view_t.delete().where(permission_view_t.c.view_menu_id == view_id))
    conn.execute(view_menu_t.delete().where(view_menu_t.c.id == view_id))


def permissions_apply_hook(conn: sa.Connection, change: AppliedChange) -> None:
    """Apply hook: permissions for created entities, removal for archived ones."""
    if not sa.inspect(conn).has_table(view_menu_t.name):
        return  # metadata used without Flask-AppBuilder's tables (e.g. plain library use)
    for name in change.created:
        ensure_entity_permissions(conn, name)
    for name in change.removed:
        remove_entity_permissions(conn, name)


class XrmSecurityManager(SecurityManager):
    """FAB's security manager, made aware of runtime entities.

    ``security_cleanup`` (``flask fab security-cleanup``) deletes every view menu no view class
    declares; entities have no view class, so their ``Entity:*`` view menus are kept.
    """

    def security_cleanup(self, baseviews, menus):
        everything = super().get_all_view_menu
        self.get_all_view_menu = lambda: [  # type: ignore[method-assign]
            vm for vm in everything() if not vm.name.startswith(ENTITY_VIEW_PREFIX)
        ]
        try:
            super().security_cleanup(baseviews, menus)
        finally:
            del self.get_all_view_menu
