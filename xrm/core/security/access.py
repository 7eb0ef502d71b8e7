"""What an actor may do: entity permissions, record scopes and field-level security.

Resolved with a few queries per call from Flask-AppBuilder's permission tables (``can_read`` on
``Entity:crm.contact``...), the record-scope table and the field-permission table. The result is
applied by the record service on writes and handed to the query runner as SQL scopes and hidden
fields on reads, so no path can see more than this says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import (
    User,
    assoc_permissionview_role,
    assoc_user_group,
    assoc_user_role,
)

from ...metadata import store
from ...metadata.statements import Prepared
from ..context import Actor
from ..records.errors import RecordError
from ..tables import field_permission, record_scope
from . import accessstate
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
    #: (question, entity) -> answer of hidden()/readonly(), asked several times per write.
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

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
        found = self._memo.get(("h", entity))
        if found is None:
            found = self._memo["h", entity] = (
                frozenset()
                if self.unrestricted
                else frozenset(
                    f for f, (read, _w) in self.secured.get(entity, {}).items() if not read
                )
            )
        return found

    def readonly(self, entity: str) -> frozenset[str]:
        found = self._memo.get(("r", entity))
        if found is None:
            found = self._memo["r", entity] = (
                frozenset()
                if self.unrestricted
                else frozenset(
                    f for f, (_r, write) in self.secured.get(entity, {}).items() if not write
                )
            )
        return found


# What :func:`resolve_access` reads, in ONE statement built once (building a statement costs
# more than running it on SQLite, and each round trip counts on PostgreSQL): the actor's
# entity grants ("g"), their roles' record scopes ("s"), every field permission ("f") and the
# members of the actor's teams ("t"), as rows of (kind, a, b, c, can_read, can_write, user_id).
_ROLES = sa.bindparam("roles", expanding=True)


def _null(type_: Any) -> Any:
    return sa.cast(sa.null(), type_)


_ACCESS_QUERY = sa.union_all(
    sa.select(
        sa.literal("g", sa.String).label("kind"),
        view_menu_t.c.name.label("a"),
        permission_t.c.name.label("b"),
        role_t.c.name.label("c"),
        _null(sa.Boolean).label("can_read"),
        _null(sa.Boolean).label("can_write"),
        _null(sa.Integer).label("user_id"),
    )
    .select_from(
        assoc_permissionview_role.join(
            permission_view_t,
            permission_view_t.c.id == assoc_permissionview_role.c.permission_view_id,
        )
        .join(permission_t, permission_t.c.id == permission_view_t.c.permission_id)
        .join(view_menu_t, view_menu_t.c.id == permission_view_t.c.view_menu_id)
        .join(role_t, role_t.c.id == assoc_permissionview_role.c.role_id)
    )
    .where(role_t.c.name.in_(_ROLES), view_menu_t.c.name.like(f"{ENTITY_VIEW_PREFIX}%")),
    sa.select(
        sa.literal("s", sa.String),
        record_scope.c.role,
        record_scope.c.entity,
        record_scope.c.scope,
        _null(sa.Boolean),
        _null(sa.Boolean),
        _null(sa.Integer),
    ).where(record_scope.c.role.in_(_ROLES)),
    sa.select(
        sa.literal("f", sa.String),
        field_permission.c.role,
        field_permission.c.entity,
        field_permission.c.field,
        field_permission.c.can_read,
        field_permission.c.can_write,
        _null(sa.Integer),
    ),
    sa.select(
        sa.literal("t", sa.String),
        _null(sa.String),
        _null(sa.String),
        _null(sa.String),
        _null(sa.Boolean),
        _null(sa.Boolean),
        assoc_user_group.c.user_id,
    )
    .where(
        assoc_user_group.c.group_id.in_(
            sa.select(assoc_user_group.c.group_id).where(
                assoc_user_group.c.user_id == sa.bindparam("user_id")
            )
        )
    )
    .distinct(),
)


def resolve_access(conn: sa.Connection, actor: Actor) -> Access:
    if actor.is_admin:
        return Access(actor=actor)
    roles = list(actor.roles)
    grants = set()
    granted_roles: dict[str, set[str]] = {}
    role_scopes: dict[tuple[str, str], str] = {}
    secured: dict[str, dict[str, tuple[bool, bool]]] = {}
    team: set[int] = set()
    for kind, a, b, c, can_read, can_write, user_id in conn.execute(
        _ACCESS_QUERY, {"roles": roles, "user_id": actor.user_id}
    ):
        if kind == "g":  # a: view, b: permission, c: role
            entity = a[len(ENTITY_VIEW_PREFIX) :]
            grants.add((entity, b.removeprefix("can_")))
            granted_roles.setdefault(entity, set()).add(c)
        elif kind == "s":  # a: role, b: entity, c: scope
            role_scopes[(a, b)] = c
        elif kind == "f":  # a: role, b: entity, c: field
            cur = secured.setdefault(b, {}).get(c, (False, False))
            if a in roles:
                cur = (cur[0] or bool(can_read), cur[1] or bool(can_write))
            secured[b][c] = cur
        elif user_id is not None:
            team.add(user_id)
    # Per entity, the widest scope of the actor's roles that have any grant on it wins; a role
    # with grants but no scope row sees all records.
    scopes: dict[str, str] = {}
    for entity, with_grants in granted_roles.items():
        widest = max(
            (role_scopes.get((role, entity), "all") for role in with_grants), key=SCOPES.index
        )
        scopes[entity] = widest
    return Access(
        actor=actor,
        grants=frozenset(grants),
        scopes=scopes,
        secured=secured,
        team=tuple(sorted(team)) if actor.user_id is not None else (),
    )


_user_t = User.__table__
# The metadata version and the access token ride along (uncorrelated scalar subqueries,
# evaluated once): every authenticated request sends this statement, and the registry's version
# check and the access cache's token read in the same transaction then need no statement of
# their own (two round trips less on PostgreSQL).
_ACTOR_QUERY = (
    sa.select(
        _user_t.c.username,
        _user_t.c.active,
        role_t.c.name,
        store.version_column().label("metadata_version"),
        accessstate.token_column().label("access_token"),
    )
    .select_from(
        _user_t.outerjoin(assoc_user_role, assoc_user_role.c.user_id == _user_t.c.id).outerjoin(
            role_t, role_t.c.id == assoc_user_role.c.role_id
        )
    )
    .where(_user_t.c.id == sa.bindparam("user_id"))
)
# Every authenticated request sends it: on SQLite straight to the driver (see Prepared).
_ACTOR = Prepared(_ACTOR_QUERY)


def actor_of(conn: sa.Connection, user_id: int, admin_role: str = "Admin") -> Actor | None:
    """The actor of an active user, with their roles (one query), or None for a user who does
    not exist or is not active. The same statement reads the metadata version and the access
    token and notes them on ``conn`` for the registry's next check and the access cache's next
    look in this transaction (:func:`xrm.metadata.store.note_version`,
    :func:`xrm.core.security.accessstate.note_token`)."""
    rows = _ACTOR.rows(conn, {"user_id": user_id})  # (username, active, role, version, token)
    if not rows:
        return None
    username, active, _role, version, token = rows[0]
    store.note_version(conn, version)
    if not active:
        return None
    roles = tuple(r[2] for r in rows if r[2] is not None)
    is_admin = admin_role in roles
    if not is_admin:  # an administrator's access is not looked up: nothing to note
        accessstate.note_token(conn, token)
    return Actor(user_id=user_id, username=username, roles=roles, is_admin=is_admin)


def roles_of(conn: sa.Connection, user_id: int) -> list[str]:
    q = (
        sa.select(role_t.c.name)
        .join(assoc_user_role, assoc_user_role.c.role_id == role_t.c.id)
        .where(assoc_user_role.c.user_id == user_id)
    )
    return list(conn.execute(q).scalars())
