"""Users, roles and teams created by the platform itself (demo colleagues, service accounts).

Writes go to Flask-AppBuilder's own tables on the caller's connection, inside the caller's
transaction (all or nothing, and no second writer on SQLite). Every function is idempotent:
what exists is found and kept, what is missing is added. Plugins reach these through
:class:`xrm.core.plugins.DemoContext`, never directly.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import (
    Group,
    User,
    assoc_user_group,
    assoc_user_role,
)
from werkzeug.security import generate_password_hash

from ..records.errors import RecordInvalid
from .grants import ensure_role

__all__ = ["ensure_role", "ensure_team", "ensure_user"]
from .permissions import role_t

_user_t = User.__table__
_group_t = Group.__table__


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordInvalid(f"a {kind} needs a non-empty name, got {value!r}")
    return value.strip()


def ensure_user(
    conn: sa.Connection,
    username: str,
    first_name: str,
    last_name: str,
    *,
    email: str | None = None,
    roles: Iterable[str] = (),
    create_roles: bool = False,
) -> int:
    """The id of user ``username``, created when missing (active, with a random password
    nobody knows: an administrator sets one to log in as them). ``roles`` are given to the user
    (added to an existing user's roles, never removed); a role that does not exist is left out,
    unless ``create_roles``, which creates it without permissions."""
    username = _check_name("user", username)
    user_id = conn.execute(sa.select(_user_t.c.id).where(_user_t.c.username == username)).scalar()
    if user_id is None:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        user_id = conn.execute(
            _user_t.insert()
            .values(
                first_name=first_name,
                last_name=last_name,
                username=username,
                email=email or f"{username}@demo.example",
                # one cheap round: a random secret is unguessable anyway
                password=generate_password_hash(
                    secrets.token_urlsafe(32), method="pbkdf2:sha256:1"
                ),
                active=True,
                created_on=now,
                changed_on=now,
            )
            .returning(_user_t.c.id)
        ).scalar_one()
    have = set(
        conn.execute(
            sa.select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == user_id)
        ).scalars()
    )
    for role in roles:
        role_id = (
            ensure_role(conn, _check_name("role", role))
            if create_roles
            else conn.execute(sa.select(role_t.c.id).where(role_t.c.name == role)).scalar()
        )
        if role_id is not None and role_id not in have:
            conn.execute(assoc_user_role.insert().values(user_id=user_id, role_id=role_id))
            have.add(role_id)
    return user_id


def ensure_team(conn: sa.Connection, name: str, user_ids: Iterable[int] = ()) -> int:
    """The id of team ``name`` (a Flask-AppBuilder group: the ``team`` record scope is a user's
    groups), created when missing, with ``user_ids`` among its members (others are kept)."""
    name = _check_name("team", name)
    group_id = conn.execute(sa.select(_group_t.c.id).where(_group_t.c.name == name)).scalar()
    if group_id is None:
        group_id = conn.execute(
            _group_t.insert().values(name=name, label=name).returning(_group_t.c.id)
        ).scalar_one()
    members = set(
        conn.execute(
            sa.select(assoc_user_group.c.user_id).where(assoc_user_group.c.group_id == group_id)
        ).scalars()
    )
    for user_id in user_ids:
        if user_id not in members:
            conn.execute(assoc_user_group.insert().values(user_id=user_id, group_id=group_id))
            members.add(user_id)
    return group_id
