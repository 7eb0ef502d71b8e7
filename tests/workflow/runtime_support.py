"""Helpers of the runtime specifications: an application with the example opportunity entity,
sales roles and users, on the database under test (SQLite file or PostgreSQL schema)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine_support import DISCOUNT_APPROVAL, OPPORTUNITY

from xrm.core.context import Actor
from xrm.core.security.grants import ensure_role, grant

ROLES = ("sales_rep", "sales_manager", "sales_director")

ACCOUNT = {
    "title": "Account",
    "x-xrm": {"name": "sales.account", "titleField": "name"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "open_amount": {
            "x-xrm": {"type": "decimal", "precision": 14, "scale": 2},
            "readOnly": True,
        },
        "deals": {"type": "integer", "readOnly": True},
        "biggest": {"x-xrm": {"type": "decimal", "precision": 14, "scale": 2}, "readOnly": True},
    },
}


def opportunity_doc() -> dict:
    doc = copy.deepcopy(OPPORTUNITY)
    doc["properties"]["account"] = {
        "x-xrm": {"type": "reference", "target": "sales.account", "onDelete": "setNull"}
    }
    return doc


def workflow_doc() -> dict:
    return copy.deepcopy(DISCOUNT_APPROVAL)


@dataclass
class Env:
    app: Any
    platform: Any
    users: dict[str, Actor]

    @property
    def wf(self):
        return self.platform.workflows

    @property
    def records(self):
        return self.platform.records

    def tx(self):
        return self.platform.engine.begin()

    def save(self, kind: str, doc: dict, **kw):
        with self.tx() as conn:
            return self.wf.save(conn, kind, doc, actor="test", **kw)

    def create(self, actor: Actor, values: dict, entity: str = "sales.opportunity") -> dict:
        with self.tx() as conn:
            return self.records.create(conn, actor, entity, values)

    def update(
        self, actor: Actor, rid: int, values: dict, entity: str = "sales.opportunity"
    ) -> dict:
        with self.tx() as conn:
            return self.records.update(conn, actor, entity, rid, values)

    def fire(
        self, actor: Actor, rid: int, name: str, entity: str = "sales.opportunity", **kw
    ) -> dict:
        with self.tx() as conn:
            return self.wf.fire(conn, actor, entity, rid, name, **kw)

    def get(self, rid: int, entity: str = "sales.opportunity") -> dict:
        with self.tx() as conn:
            return self.records.get(conn, self.users["admin"], entity, rid)


def build_env(make_app, plugins: dict | None = None, workflow: bool = True) -> Env:
    app = make_app(plugins=plugins)
    p = app.extensions["xrm"]
    p.registry.apply_documents([ACCOUNT, opportunity_doc()])
    from xrm.core.plugins.lifecycle import PluginLifecycle

    for name in plugins or {}:  # installed plugins take part (their hooks are called)
        PluginLifecycle(p).install(name)
    users = {"admin": Actor(user_id=None, username="root", roles=("Admin",), is_admin=True)}
    with app.app_context():
        sm = app.appbuilder.sm
        for _i, role in enumerate(ROLES):
            sm.add_role(role)
        with p.engine.begin() as conn:
            for role in ROLES:
                ensure_role(conn, role)
                for entity in ("sales.opportunity", "sales.account"):
                    grant(conn, role, entity, ["read", "create", "update", "delete"])
        for name, roles in (
            ("rep", ["sales_rep"]),
            ("rep2", ["sales_rep"]),
            ("manager", ["sales_manager"]),
            ("director", ["sales_director", "sales_manager"]),
        ):
            user = sm.add_user(
                name,
                name,
                "User",
                f"{name}@example.org",
                [sm.find_role(r) for r in roles],
                password="pw-" + name,
            )
            users[name] = Actor(user_id=user.id, username=name, roles=tuple(roles))
        admin = sm.add_user(
            "admin",
            "Admin",
            "User",
            "admin@example.org",
            sm.find_role("Admin"),
            password="admin-password-for-tests",
        )
        users["admin"] = Actor(user_id=admin.id, username="admin", roles=("Admin",), is_admin=True)
    env = Env(app, p, users)
    if workflow:
        env.save("workflow", workflow_doc())
    return env
