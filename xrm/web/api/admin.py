"""Administration API: roles, their entity grants, record scopes and field security; users;
teams."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest, Conflict, Forbidden, NotFound

from ...core.security import bodies, grants, teams
from ...core.security.permissions import ENTITY_ACTIONS, ENTITY_VIEW_PREFIX
from ...core.tables import field_permission, record_scope
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
    """The request's JSON object: anything else is malformed (400); what its values are is
    the core's check (422 with every problem, :mod:`xrm.core.security.bodies`)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


def _existing_role(name: str) -> str:
    """The role the URL names, or 404 (a name no database stores is not looked up)."""
    if not bodies.storable(name) or not current_app.appbuilder.sm.find_role(name):
        raise NotFound(f"role {name!r} does not exist")
    return name


def _roles(names: list[str]) -> list:
    """A body's ``roles`` (role names, checked) -> FAB's role objects; 422 for any that does
    not exist."""
    return bodies.existing_roles(names, current_app.appbuilder.sm.find_role)


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
    name = bodies.check_role(_body())
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
    p = current_app.extensions["xrm"]
    with p.engine.begin() as conn:
        ce = p.registry.snapshot(conn).entity(entity)
        _existing_role(role)
        actions, scope = bodies.check_grant(
            body, entity, owned_by_users=ce.definition.ownership == "user"
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
    p = current_app.extensions["xrm"]
    with p.engine.begin() as conn:
        ce = p.registry.snapshot(conn).entity(entity)
        _existing_role(role)
        if field not in ce.fields:
            raise NotFound(f"{entity} has no field {field!r}")
        read, write = bodies.check_field_rights(body, f"{entity}.{field}")
        grants.secure_field(conn, role, entity, field, read=read, write=write)
    return jsonify({"role": role, "entity": entity, "field": field, "read": read, "write": write})


@api.delete("/admin/roles/<role>/entities/<entity>/fields/<field>")
def admin_unsecure_field(role: str, entity: str, field: str):
    _admin()
    _existing_role(role)
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
    values = bodies.check_new_user(_body())
    roles = _roles(values.get("roles", []))
    sm = current_app.appbuilder.sm
    if sm.find_user(username=values["username"]):
        raise Conflict(f"user {values['username']!r} already exists")
    user = sm.add_user(
        values["username"],
        values.get("firstName", ""),
        values.get("lastName", ""),
        values["email"],
        roles or [sm.find_role(current_app.config["AUTH_ROLE_PUBLIC"])],
        password=values["password"],
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
    values = bodies.check_user_change(body)
    roles = _roles(values["roles"]) if "roles" in values else None
    if "active" in values:
        user.active = values["active"]
    if roles is not None:
        user.roles = roles
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
