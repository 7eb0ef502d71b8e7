"""Default roles a plugin declares (``xrm_default_roles``): checked, then created on install.

A role that already exists (another plugin's, or an administrator's) keeps everything it has:
an administrator may have changed what it may do, and the plugin's idea of it must not overwrite
theirs. On the plugin's first install such a role is only *extended* with what the plugin
declares for it on the plugin's own entities, which are new, so nobody can have decided
otherwise yet (the partner plugin lets the CRM's sales roles read partners this way). Upgrades
extend nothing. Permissions go through the same grants as the administration API
(:mod:`xrm.core.security.grants`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from ..security import grants
from ..security.access import SCOPES
from ..security.permissions import ENTITY_ACTIONS, role_t
from .errors import PluginInvalid


def check_roles(plugin: str, roles: Iterable[Any]) -> list[dict[str, Any]]:
    """Every problem of the declared roles at once, as one :class:`PluginInvalid`."""
    problems, out = [], []
    for i, role in enumerate(roles):
        where = f"plugin {plugin!r}, xrm_default_roles()[{i}]"
        if not isinstance(role, Mapping) or not isinstance(role.get("name"), str):
            problems.append(f"{where}: expected an object with a 'name'")
            continue
        where = f"plugin {plugin!r}, role {role['name']!r}"
        perms = role.get("permissions", {})
        scopes = role.get("scopes", {})
        if not isinstance(perms, Mapping) or not isinstance(scopes, Mapping):
            problems.append(f"{where}: 'permissions' and 'scopes' are objects keyed by entity")
            continue
        for entity, actions in perms.items():
            if not isinstance(actions, list | tuple):
                problems.append(f"{where}: permissions of {entity} must be a list of actions")
                continue
            for action in actions:
                if action not in ENTITY_ACTIONS:
                    problems.append(
                        f"{where}: unknown action {action!r} on {entity}; one of "
                        + ", ".join(ENTITY_ACTIONS)
                    )
        for entity, scope in scopes.items():
            if scope not in SCOPES:
                problems.append(
                    f"{where}: unknown scope {scope!r} on {entity}; one of {', '.join(SCOPES)}"
                )
        out.append(dict(role))
    if problems:
        raise PluginInvalid("; ".join(problems), plugin=plugin, details={"problems": problems})
    return out


def role_exists(conn: sa.Connection, name: str) -> bool:
    return conn.execute(sa.select(role_t.c.id).where(role_t.c.name == name)).first() is not None


def _own_part(role: Mapping[str, Any], own: Collection[str]) -> tuple[dict, dict]:
    perms = {e: a for e, a in role.get("permissions", {}).items() if e in own}
    scopes = {e: sc for e, sc in role.get("scopes", {}).items() if e in own}
    return perms, scopes


def plan_roles(
    conn: sa.Connection, roles: list[dict[str, Any]], own: Collection[str] = ()
) -> list[dict[str, Any]]:
    """``[{"name", "action": "create" | "extend" | "keep"}]``: what installing the roles would
    do (``own``: the plugin's own entities)."""
    out = []
    for r in roles:
        if not role_exists(conn, r["name"]):
            action = "create"
        else:
            action = "extend" if any(_own_part(r, own)) else "keep"
        out.append({"name": r["name"], "action": action})
    return out


def install_roles(
    conn: sa.Connection,
    roles: list[dict[str, Any]],
    own: Collection[str] = (),
    extend_existing: bool = False,
) -> list[str]:
    """Create the roles that do not exist yet, with their grants and scopes; with
    ``extend_existing`` (a first install), give existing roles what is declared for them on
    ``own`` entities. Returns the names created."""
    created = []
    for role in roles:
        if role_exists(conn, role["name"]):
            if extend_existing:
                perms, scopes = _own_part(role, own)
                for entity, actions in perms.items():
                    grants.grant(conn, role["name"], entity, actions)
                for entity, scope in scopes.items():
                    grants.set_scope(conn, role["name"], entity, scope)
            continue
        grants.ensure_role(conn, role["name"])
        for entity, actions in role.get("permissions", {}).items():
            grants.grant(conn, role["name"], entity, actions)
        for entity, scope in role.get("scopes", {}).items():
            grants.set_scope(conn, role["name"], entity, scope)
        created.append(role["name"])
    return created
