"""Fixtures for the domain models: an application with some plugins installed on an empty
database (their definitions and option sets through plan/apply), and demo-data contexts."""

from __future__ import annotations

import random

import pytest

from xrm.core.context import SYSTEM
from xrm.core.plugins import (
    DemoContext,
    plugin_contributions,
    plugin_layer_changes,
    plugin_option_sets,
)

MODELS = ("party", "crm", "vrm", "srm", "brm")
REQUIRES = {"party": (), "crm": ("party",), "vrm": ("party",), "srm": ("party",),
            "brm": ("party", "crm")}  # fmt: skip


def with_requirements(*names: str) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        for dep in (*REQUIRES[name], name):
            if dep not in out:
                out.append(dep)
    return tuple(sorted(out, key=MODELS.index))


def install(app, names: tuple[str, ...]):
    """Install the plugins on the app's (empty) database, in dependency order.

    With the plugin lifecycle (``PluginLifecycle``) each plugin is installed by it. Without it:
    the definitions and option sets are planned and applied in one transaction, the default
    roles are created with their grants and scopes, then the workflows and rule sets are
    installed (verified against those roles)."""
    p = app.extensions["xrm"]
    try:
        from xrm.core.plugins.lifecycle import PluginLifecycle
    except ImportError:
        PluginLifecycle = None
    if PluginLifecycle is not None:
        lifecycle = PluginLifecycle(p)
        for name in names:
            lifecycle.install(name, confirm=True)
        return p
    from xrm.core.security.grants import ensure_role, grant, set_scope
    from xrm.core.workflows import sync_plugin_documents

    plan = p.registry.plan(
        changes=plugin_layer_changes(p.plugins, names),
        option_sets=plugin_option_sets(p.plugins, names),
    )
    p.registry.apply(plan, confirm=True)
    with p.engine.begin() as conn:
        for role in contributions(p, "xrm_default_roles", names):
            ensure_role(conn, role["name"])
            for entity, actions in role.get("permissions", {}).items():
                grant(conn, role["name"], entity, actions)
            for entity, scope in role.get("scopes", {}).items():
                set_scope(conn, role["name"], entity, scope)
        sync_plugin_documents(conn, p, names)
    return p


@pytest.fixture
def installed(make_app):
    """``installed("crm")``: an app with the plugin and what it requires, installed."""

    def build(*names: str):
        order = with_requirements(*names)
        app = make_app(allow=order)
        return install(app, order)

    return build


def load_demo(platform, names: tuple[str, ...], seed: int = 42) -> None:
    """Run the plugins' demo data in dependency order, as ``xrm demo`` does: each plugin in a
    transaction of its own with a ``random.Random(seed)`` of its own."""
    for name in names:
        impl = platform.plugins.get_plugin(name)
        if hasattr(impl, "xrm_demo_data"):
            with platform.engine.begin() as conn:
                ctx = DemoContext(
                    None, platform, conn, platform.records, SYSTEM, random.Random(seed)
                )
                impl.xrm_demo_data(context=ctx)


def contributions(platform, hook: str, names=None):
    return [item for _plugin, item in plugin_contributions(platform.plugins, hook, names)]


ADMIN_PASSWORD = "models-admin-password"


def admin_token_for(app) -> str:
    """Create an administrator on ``app`` and log in through the API."""
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            "admin", "Admin", "User", "admin@example.org", sm.find_role("Admin"),
            password=ADMIN_PASSWORD,
        )  # fmt: skip
    res = app.test_client().post(
        "/api/v1/security/login",
        json={"username": "admin", "password": ADMIN_PASSWORD, "provider": "db"},
    )
    assert res.status_code == 200, res.json
    return res.json["access_token"]


def entities_of(platform, plugin: str) -> list[str]:
    return [d["x-xrm"]["name"] for d in contributions(platform, "xrm_entity_definitions", [plugin])]


def create(platform, conn, entity: str, values: dict, actor=SYSTEM) -> dict:
    return platform.records.create(conn, actor, entity, values)


@pytest.fixture
def other_database_url(tmp_path, request, database_url):
    """A second empty database of the backend under test (for comparing two runs)."""
    import uuid
    from urllib.parse import quote

    import sqlalchemy as sa

    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.sqlite'}"
        return
    base = database_url.split("?")[0]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()
