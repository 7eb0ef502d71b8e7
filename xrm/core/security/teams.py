"""Teams: the groups whose members share records under the ``team`` record scope.

A team is a Flask-AppBuilder group (``ab_group``; members in ``ab_user_group``), so FAB's own
views and :func:`xrm.core.security.directory.ensure_team` see the same teams. Members are named
by user name. Every function works inside the caller's transaction, on FAB's tables with
SQLAlchemy Core; the access cache notices every change through the triggers on those tables
(:mod:`xrm.core.security.accesscache`), so a user added to a team sees its records on their
next request. Roles attached to a FAB group are not part of a team: roles are given to users.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import (
    Group,
    User,
    assoc_group_role,
    assoc_user_group,
)

from ..records.errors import (
    RecordConflict,
    RecordInvalid,
    RecordNotFound,
    field_problem,
    invalid,
)
from .bodies import storable, text_problem

_group_t = Group.__table__
_user_t = User.__table__

#: The lengths of FAB's group columns.
LIMITS = {"name": 100, "label": 150, "description": 512}
FIELDS = frozenset({"name", "label", "description", "members"})


class TeamNotFound(RecordNotFound):
    title = "Not found"


class TeamConflict(RecordConflict):
    """A team of that name exists already."""


class TeamInvalid(RecordInvalid):
    title = "Invalid team"


def _text_problem(field: str, value: Any, *, required: bool) -> str | None:
    found = text_problem(
        field, value, limit=LIMITS[field], required=required, controls=field == "description"
    )
    if found is None and field == "name" and isinstance(value, str):
        if value != value.strip():
            return "name may not start or end with spaces"
        if "/" in value:
            return "name may not contain '/' (it is part of the team's URL)"
    return found


def check_team(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The valid team values of a request body (every given key); raise :class:`TeamInvalid`
    with every problem. ``partial``: a change, where every key is optional."""
    problems = [field_problem(k, f"unknown key {k!r}") for k in sorted(set(body) - FIELDS)]
    for key in ("name", "label", "description"):
        if key in body or (key == "name" and not partial):
            found = _text_problem(key, body.get(key), required=key == "name")
            if found is not None:
                problems.append(field_problem(key, found))
    members = body.get("members")
    if "members" in body and (
        not isinstance(members, list)
        or not all(isinstance(m, str) and m and storable(m) for m in members)
    ):
        problems.append(field_problem("members", "members is a list of user names"))
    if problems:
        raise invalid(TeamInvalid, "team", problems)
    return {k: body[k] for k in FIELDS if k in body}


def _group_id(conn: sa.Connection, name: str) -> int:
    if not storable(name):  # no team has such a name, and the database cannot compare it
        raise TeamNotFound(f"team {name!r} does not exist")
    found = conn.execute(sa.select(_group_t.c.id).where(_group_t.c.name == name)).scalar()
    if found is None:
        raise TeamNotFound(f"team {name!r} does not exist")
    return found


def _user_ids(conn: sa.Connection, usernames: Sequence[str]) -> list[int]:
    """The ids of the users named as ``members``; raise :class:`TeamInvalid` naming every
    member who is no user (a value of the body that does not fit, as a record's reference to a
    missing record is: 422)."""
    wanted = sorted(set(usernames))
    if not wanted:
        return []
    found = dict(
        conn.execute(
            sa.select(_user_t.c.username, _user_t.c.id).where(_user_t.c.username.in_(wanted))
        ).all()
    )
    problems = [
        field_problem("members", f"user {u!r} does not exist", i)
        for i, u in enumerate(usernames)
        if u not in found
    ]
    if problems:
        raise invalid(TeamInvalid, "team", problems)
    return [found[u] for u in wanted]


def _set_members(conn: sa.Connection, group_id: int, usernames: Sequence[str]) -> None:
    wanted = set(_user_ids(conn, usernames))
    t = assoc_user_group
    have = set(conn.execute(sa.select(t.c.user_id).where(t.c.group_id == group_id)).scalars())
    if have - wanted:
        conn.execute(t.delete().where(t.c.group_id == group_id, t.c.user_id.in_(have - wanted)))
    for user_id in sorted(wanted - have):
        conn.execute(t.insert().values(group_id=group_id, user_id=user_id))


def list_teams(conn: sa.Connection, name: str | None = None) -> list[dict[str, Any]]:
    """Every team (or the one named), by name, with its members' user names."""
    if name is not None and not storable(name):
        return []
    q = sa.select(_group_t.c.id, _group_t.c.name, _group_t.c.label, _group_t.c.description)
    if name is not None:
        q = q.where(_group_t.c.name == name)
    teams = {
        r.id: {
            "name": r.name,
            "label": r.label or r.name,
            "description": r.description,
            "members": [],
        }
        for r in conn.execute(q.order_by(_group_t.c.name))
    }
    if teams:
        members = (
            sa.select(assoc_user_group.c.group_id, _user_t.c.username)
            .join(_user_t, _user_t.c.id == assoc_user_group.c.user_id)
            .where(assoc_user_group.c.group_id.in_(list(teams)))
            .order_by(_user_t.c.username)
        )
        for group_id, username in conn.execute(members):
            teams[group_id]["members"].append(username)
    return list(teams.values())


def get_team(conn: sa.Connection, name: str) -> dict[str, Any]:
    found = list_teams(conn, name)
    if not found:
        raise TeamNotFound(f"team {name!r} does not exist")
    return found[0]


def _write_or_conflict(conn: sa.Connection, statement: Any, name: str) -> list[Any]:
    """Run an INSERT or UPDATE of a group; the rows it returns. Names are checked first for a
    clear answer; the unique index settles a race with another writer."""
    try:
        with conn.begin_nested():
            result = conn.execute(statement)
            return result.all() if result.returns_rows else []
    except sa.exc.IntegrityError:
        raise TeamConflict(f"team {name!r} already exists") from None


def create_team(conn: sa.Connection, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a team from a request body (``name``, ``label``, ``description``, ``members``)."""
    values = check_team(body, partial=False)
    name = values["name"]
    if conn.execute(sa.select(_group_t.c.id).where(_group_t.c.name == name)).first():
        raise TeamConflict(f"team {name!r} already exists")
    members = _user_ids(conn, values.get("members", ()))  # 422 before anything is written
    [(group_id,)] = _write_or_conflict(
        conn,
        _group_t.insert()
        .values(name=name, label=values.get("label") or name, description=values.get("description"))
        .returning(_group_t.c.id),
        name,
    )
    for user_id in members:
        conn.execute(assoc_user_group.insert().values(group_id=group_id, user_id=user_id))
    return get_team(conn, name)


def update_team(conn: sa.Connection, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Change a team: any of ``name`` (a rename), ``label``, ``description`` and ``members``
    (the whole new list of user names)."""
    group_id = _group_id(conn, name)
    values = check_team(body, partial=True)
    new_name = values.get("name", name)
    if (
        new_name != name
        and conn.execute(sa.select(_group_t.c.id).where(_group_t.c.name == new_name)).first()
    ):
        raise TeamConflict(f"team {new_name!r} already exists")
    if "members" in values:
        _set_members(conn, group_id, values["members"])
    changes = {k: values[k] for k in ("name", "label", "description") if k in values}
    if changes:
        _write_or_conflict(
            conn, _group_t.update().where(_group_t.c.id == group_id).values(**changes), new_name
        )
    return get_team(conn, new_name)


def delete_team(conn: sa.Connection, name: str) -> None:
    """Delete a team and its memberships (the users and their records stay)."""
    group_id = _group_id(conn, name)
    conn.execute(assoc_user_group.delete().where(assoc_user_group.c.group_id == group_id))
    conn.execute(assoc_group_role.delete().where(assoc_group_role.c.group_id == group_id))
    conn.execute(_group_t.delete().where(_group_t.c.id == group_id))


__all__ = [
    "TeamConflict",
    "TeamInvalid",
    "TeamNotFound",
    "check_team",
    "create_team",
    "delete_team",
    "get_team",
    "list_teams",
    "update_team",
]
