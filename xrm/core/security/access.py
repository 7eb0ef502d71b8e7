"""What an actor may do: entity permissions, record scopes and field-level security.

Resolved with a few queries per call from Flask-AppBuilder's permission tables (``can_read`` on
``Entity:crm.contact``...), the record-scope table and the field-permission table. The result is
applied by the record service on writes and handed to the query runner as SQL scopes and hidden
fields on reads, so no path can see more than this says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import (
    User,
    assoc_permissionview_role,
    assoc_user_group,
    assoc_user_role,
)

from ..context import Actor
from ..records.errors import RecordError
from ..tables import field_permission, record_scope
from .permissions import ENTITY_VIEW_PREFIX, permission_t, permission_view_t, role_t, view_menu_t

SCOPES = ("own", "team", "all")


class AccessDenied(RecordError):
    status = 403
    title = "Forbidden"


@dataclass(frozen=True)
class Access:
    actor: Actor
    grants: frozenset[tuple[str, str]] = frozenset()
    scopes: Mapping[str, str] = field(default_factory=dict)
    #: entity -> field -> (can_read, can_write) for secured fields only
    secured: Mapping[str, Mapping[str, tuple[bool, bool]]] = field(default_factory=dict)
    team: tuple[int, ...] = ()

    @property
    def unrestricted(self) -> bool:
        return self.actor.is_admin

    def can(self, entity: str, action: str) -> bool:
        return self.unrestricted or (entity, action) in self.grants

    def require(self, entity: str, action: str) -> None:
        if not self.can(entity, action):
            raise AccessDenied(f"{self.actor.username} may not {action} {entity} records")

    def scope(self, entity: str) -> str:
        return "all" if self.unrestricted else self.scopes.get(entity, "all")

    def scope_clause(self, entity: str, table: sa.Table):
        """The SQL condition limiting ``entity`` rows to the actor's scope (None: all rows)."""
        scope = self.scope(entity)
        if scope == "own":
            return table.c.owner_id == self.actor.user_id
        if scope == "team":
            return table.c.owner_id.in_(sorted({*self.team, self.actor.user_id}))
        return None

    def hidden(self, entity: str) -> frozenset[str]:
        if self.unrestricted:
            return frozenset()
        return frozenset(f for f, (read, _w) in self.secured.get(entity, {}).items() if not read)

    def readonly(self, entity: str) -> frozenset[str]:
        if self.unrestricted:
            return frozenset()
        return frozenset(f for f, (_r, write) in self.secured.get(entity, {}).items() if not write)


def resolve_access(conn: sa.Connection, actor: Actor) -> Access:
    if actor.is_admin:
        return Access(actor=actor)
    roles = list(actor.roles)
    grants = set()
    q = (
        sa.select(view_menu_t.c.name, permission_t.c.name, role_t.c.name)
        .select_from(
            assoc_permissionview_role.join(
                permission_view_t,
                permission_view_t.c.id == assoc_permissionview_role.c.permission_view_id,
            )
            .join(permission_t, permission_t.c.id == permission_view_t.c.permission_id)
            .join(view_menu_t, view_menu_t.c.id == permission_view_t.c.view_menu_id)
            .join(role_t, role_t.c.id == assoc_permissionview_role.c.role_id)
        )
        .where(role_t.c.name.in_(roles), view_menu_t.c.name.like(f"{ENTITY_VIEW_PREFIX}%"))
    )
    granted_roles: dict[str, set[str]] = {}
    for view, perm, role in conn.execute(q):
        entity = view[len(ENTITY_VIEW_PREFIX) :]
        grants.add((entity, perm.removeprefix("can_")))
        granted_roles.setdefault(entity, set()).add(role)
    role_scopes: dict[tuple[str, str], str] = {
        (r.role, r.entity): r.scope
        for r in conn.execute(sa.select(record_scope).where(record_scope.c.role.in_(roles)))
    }
    # Per entity, the widest scope of the actor's roles that have any grant on it wins; a role
    # with grants but no scope row sees all records.
    scopes: dict[str, str] = {}
    for entity, with_grants in granted_roles.items():
        widest = max(
            (role_scopes.get((role, entity), "all") for role in with_grants), key=SCOPES.index
        )
        scopes[entity] = widest
    secured: dict[str, dict[str, tuple[bool, bool]]] = {}
    rows = conn.execute(sa.select(field_permission)).all()
    for r in rows:
        cur = secured.setdefault(r.entity, {}).get(r.field, (False, False))
        if r.role in roles:
            cur = (cur[0] or r.can_read, cur[1] or r.can_write)
        secured[r.entity][r.field] = cur
    team: tuple[int, ...] = ()
    if actor.user_id is not None:
        groups = sa.select(assoc_user_group.c.group_id).where(
            assoc_user_group.c.user_id == actor.user_id
        )
        team = tuple(
            conn.execute(
                sa.select(assoc_user_group.c.user_id)
                .where(assoc_user_group.c.group_id.in_(groups))
                .distinct()
            ).scalars()
        )
    return Access(actor=actor, grants=frozenset(grants), scopes=scopes, secured=secured, team=team)


_user_t = User.__table__
_ACTOR_QUERY = (
    sa.select(_user_t.c.username, _user_t.c.active, role_t.c.name)
    .select_from(
        _user_t.outerjoin(assoc_user_role, assoc_user_role.c.user_id == _user_t.c.id).outerjoin(
            role_t, role_t.c.id == assoc_user_role.c.role_id
        )
    )
    .where(_user_t.c.id == sa.bindparam("user_id"))
)


def actor_of(conn: sa.Connection, user_id: int, admin_role: str = "Admin") -> Actor | None:
    """The actor of an active user, with their roles (one query), or None for a user who does
    not exist or is not active."""
    rows = conn.execute(_ACTOR_QUERY, {"user_id": user_id}).all()
    if not rows or not rows[0].active:
        return None
    roles = tuple(r.name for r in rows if r.name is not None)
    return Actor(
        user_id=user_id, username=rows[0].username, roles=roles, is_admin=admin_role in roles
    )


def roles_of(conn: sa.Connection, user_id: int) -> list[str]:
    q = (
        sa.select(role_t.c.name)
        .join(assoc_user_role, assoc_user_role.c.role_id == role_t.c.id)
        .where(assoc_user_role.c.user_id == user_id)
    )
    return list(conn.execute(q).scalars())
