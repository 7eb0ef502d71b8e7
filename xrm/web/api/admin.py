"""Administration API: roles, their entity grants, record scopes and field security; users;
teams."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest, Conflict, Forbidden, NotFound

from ...core.security import grants, teams
from ...core.security.permissions import ENTITY_ACTIONS, ENTITY_VIEW_PREFIX
from ...core.tables import field_permission, record_scope
from ...metadata.fieldtypes.base import FieldValueError
from ...metadata.fieldtypes.scalars import check_text
from ..auth import current_actor
from . import api


def _admin():
    actor = current_actor()
    if not actor.is_admin:
        raise Forbidden("administrators only")
    return actor


def _engine():
    return current_app.extensions["xrm"].engine


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


def _plain(value: str) -> bool:
    """Text every database stores (the field types' :func:`check_text`: no NUL, no lone
    surrogates) and without other control characters."""
    try:
        check_text(value)
    except FieldValueError:
        return False
    return not any(ord(c) < 32 or ord(c) == 127 for c in value)


def _role_name(value, what: str = "'name'") -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64 or not _plain(value):
        raise BadRequest(
            f"{what} is a role name of at most 64 characters, without control characters"
        )
    return value


def _existing_role(name) -> str:
    _role_name(name, "the role")
    if not current_app.appbuilder.sm.find_role(name):
        raise NotFound(f"role {name!r} does not exist")
    return name


def _roles(value) -> list:
    """A body's ``roles``: a list of existing role names -> FAB's role objects."""
    if not isinstance(value, list) or not all(isinstance(r, str) and _plain(r) for r in value):
        raise BadRequest("'roles' is a list of role names")
    sm = current_app.appbuilder.sm
    roles = [sm.find_role(r) for r in value]
    unknown = [name for name, r in zip(value, roles, strict=True) if r is None]
    if unknown:
        raise BadRequest(f"unknown role(s) in 'roles': {', '.join(map(repr, unknown))}")
    return roles


def _role_grants(conn, role: str) -> dict:
    from ...core.security.permissions import (
        assoc_permissionview_role,
        permission_t,
        permission_view_t,
        role_t,
        view_menu_t,
    )

    q = (
        sa.select(view_menu_t.c.name, permission_t.c.name)
        .select_from(
            assoc_permissionview_role.join(
                permission_view_t,
                permission_view_t.c.id == assoc_permissionview_role.c.permission_view_id,
            )
            .join(permission_t, permission_t.c.id == permission_view_t.c.permission_id)
            .join(view_menu_t, view_menu_t.c.id == permission_view_t.c.view_menu_id)
            .join(role_t, role_t.c.id == assoc_permissionview_role.c.role_id)
        )
        .where(role_t.c.name == role, view_menu_t.c.name.like(f"{ENTITY_VIEW_PREFIX}%"))
    )
    out: dict[str, dict] = {}
    for view, perm in conn.execute(q):
        out.setdefault(view[len(ENTITY_VIEW_PREFIX) :], {"actions": []})["actions"].append(
            perm.removeprefix("can_")
        )
    for entity, scope in conn.execute(
        sa.select(record_scope.c.entity, record_scope.c.scope).where(record_scope.c.role == role)
    ):
        out.setdefault(entity, {"actions": []})["scope"] = scope
    for r in conn.execute(sa.select(field_permission).where(field_permission.c.role == role)):
        out.setdefault(r.entity, {"actions": []}).setdefault("fields", {})[r.field] = {
            "read": r.can_read,
            "write": r.can_write,
        }
    for v in out.values():
        v["actions"].sort()
        v.setdefault("scope", "all")
    return out


@api.get("/admin/roles")
def admin_roles():
    _admin()
    sm = current_app.appbuilder.sm
    with _engine().connect() as conn:
        return jsonify(
            {
                "items": [
                    {"name": r.name, "entities": _role_grants(conn, r.name)}
                    for r in sm.get_all_roles()
                ]
            }
        )


@api.post("/admin/roles")
def admin_create_role():
    _admin()
    name = _role_name(_body().get("name"))
    sm = current_app.appbuilder.sm
    if sm.find_role(name):
        raise Conflict(f"role {name!r} already exists")
    with _engine().begin() as conn:
        grants.ensure_role(conn, name)
    return jsonify({"name": name, "entities": {}}), 201


@api.put("/admin/roles/<role>/entities/<entity>")
def admin_set_grants(role: str, entity: str):
    """Set exactly what ``role`` may do with ``entity``: actions and record scope."""
    _admin()
    body = _body()
    actions = body.get("actions", [])
    scope = body.get("scope", "all")
    if not isinstance(actions, list) or set(actions) - set(ENTITY_ACTIONS):
        raise BadRequest(f"'actions' is a list of {', '.join(ENTITY_ACTIONS)}")
    p = current_app.extensions["xrm"]
    with p.engine.begin() as conn:
        ce = p.registry.snapshot(conn).entity(entity)
        _existing_role(role)
        if scope in ("own", "team") and ce.definition.ownership != "user":
            raise BadRequest(
                f"{entity} is owned by the organisation (its records have no owner): "
                f"a {scope!r} scope would hide every record; give 'all'"
            )
        grants.revoke(conn, role, entity, [a for a in ENTITY_ACTIONS if a not in actions])
        grants.grant(conn, role, entity, actions)
        grants.set_scope(conn, role, entity, scope)
        return jsonify(_role_grants(conn, role).get(entity, {"actions": [], "scope": scope}))


@api.put("/admin/roles/<role>/entities/<entity>/fields/<field>")
def admin_secure_field(role: str, entity: str, field: str):
    """Secure ``entity.field`` and set what ``role`` may do with it."""
    _admin()
    body = _body()
    read, write = body.get("read"), body.get("write")
    if not isinstance(read, bool) or not isinstance(write, bool):
        raise BadRequest("'read' and 'write' are true or false")
    p = current_app.extensions["xrm"]
    with p.engine.begin() as conn:
        ce = p.registry.snapshot(conn).entity(entity)
        _existing_role(role)
        if field not in ce.fields:
            raise NotFound(f"{entity} has no field {field!r}")
        grants.secure_field(conn, role, entity, field, read=read, write=write)
    return jsonify({"role": role, "entity": entity, "field": field, "read": read, "write": write})


@api.delete("/admin/roles/<role>/entities/<entity>/fields/<field>")
def admin_unsecure_field(role: str, entity: str, field: str):
    _admin()
    _role_name(role, "the role")
    t = field_permission
    with _engine().begin() as conn:
        conn.execute(t.delete().where(t.c.role == role, t.c.entity == entity, t.c.field == field))
    return "", 204


def _user_json(u) -> dict:
    return {
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "active": u.active,
        "roles": [r.name for r in u.roles],
    }


@api.get("/admin/users")
def admin_users():
    _admin()
    return jsonify({"items": [_user_json(u) for u in current_app.appbuilder.sm.get_all_users()]})


@api.post("/admin/users")
def admin_create_user():
    _admin()
    body = _body()
    sm = current_app.appbuilder.sm
    missing = [
        k
        for k in ("username", "email", "password")
        if not isinstance(body.get(k), str) or not body.get(k)
    ]
    if missing:
        raise BadRequest(f"missing {', '.join(missing)}")
    bad = [
        k
        for k in ("username", "email", "firstName", "lastName")
        if k in body and not (isinstance(body[k], str) and _plain(body[k]) and len(body[k]) <= 256)
    ]
    if bad:
        raise BadRequest(
            f"{', '.join(bad)}: text of at most 256 characters without control characters"
        )
    if sm.find_user(username=body["username"]):
        raise Conflict(f"user {body['username']!r} already exists")
    roles = _roles(body.get("roles", []))
    user = sm.add_user(
        body["username"],
        body.get("firstName", ""),
        body.get("lastName", ""),
        body["email"],
        roles or [sm.find_role(current_app.config["AUTH_ROLE_PUBLIC"])],
        password=body["password"],
    )
    if not user:
        raise Conflict("the user could not be created (e-mail already used?)")
    return jsonify(_user_json(user)), 201


@api.patch("/admin/users/<int(max=2147483647):user_id>")
def admin_update_user(user_id: int):
    _admin()
    body = _body()
    sm = current_app.appbuilder.sm
    user = sm.get_user_by_id(user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise BadRequest("'active' is true or false")
        user.active = body["active"]
    if "roles" in body:
        user.roles = _roles(body["roles"])
    sm.update_user(user)
    return jsonify(_user_json(user))


# -- teams: the groups the "team" record scope reads (docs/rest.md) -----------------------------


@api.get("/admin/teams")
def admin_teams():
    _admin()
    with _engine().connect() as conn:
        return jsonify({"items": teams.list_teams(conn)})


@api.post("/admin/teams")
def admin_create_team():
    _admin()
    body = _body()
    with _engine().begin() as conn:
        return jsonify(teams.create_team(conn, body)), 201


@api.get("/admin/teams/<name>")
def admin_team(name: str):
    _admin()
    with _engine().connect() as conn:
        return jsonify(teams.get_team(conn, name))


@api.patch("/admin/teams/<name>")
def admin_update_team(name: str):
    _admin()
    body = _body()
    with _engine().begin() as conn:
        return jsonify(teams.update_team(conn, name, body))


@api.delete("/admin/teams/<name>")
def admin_delete_team(name: str):
    _admin()
    with _engine().begin() as conn:
        teams.delete_team(conn, name)
    return "", 204
