"""Install, upgrade, enable/disable and uninstall plugins: each all-or-nothing, on a real
database."""

from __future__ import annotations

import functools
import re

import pytest
import sqlalchemy as sa
from plugin_samples import Catalog, Orders

from xrm.core.plugins import PluginDependencyError, PluginInvalid, PluginStateConflict, hookimpl
from xrm.core.plugins.state import active_contributions, read_installed
from xrm.core.security.access import resolve_access
from xrm.core.tables import installed_plugin, record_scope
from xrm.metadata import store
from xrm.metadata.errors import PlanRefused


def tables(p) -> set[str]:
    with p.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def roles(p) -> set[str]:
    from xrm.core.security.permissions import role_t

    with p.engine.connect() as conn:
        return set(conn.execute(sa.select(role_t.c.name)).scalars())


def state(p):
    with p.engine.connect() as conn:
        return read_installed(conn)


# -- install ----------------------------------------------------------------------------------


def test_install_applies_definitions_option_sets_roles_and_records_the_plugin(platform_with, actor):
    p, lc = platform_with(
        catalog=Catalog(
            fields={"colour": {"x-xrm": {"optionSet": "catalog.colour", "type": "choice"}}}
        )
    )
    change = lc.install("catalog", actor=actor)
    assert change.applied and change.to_version == "1.0.0"
    assert "catalog_product" in tables(p)
    assert p.registry.option_sets()["catalog.colour"]["options"][0]["value"] == "red"
    assert p.registry.snapshot().entity("catalog.product").definition.layer == "plugin:catalog"
    row = state(p)["catalog"]
    assert (row.version, row.enabled, row.installed_by) == ("1.0.0", True, "system")
    assert row.installed_at is not None and row.upgraded_at is None


def test_install_creates_the_default_roles_with_their_grants_and_scopes(platform_with, actor):
    p, lc = platform_with(catalog=Catalog())
    lc.install("catalog", actor=actor)
    assert "Catalog Editor" in roles(p)
    with p.engine.connect() as conn:
        access = resolve_access(
            conn, type(actor)(user_id=7, username="eve", roles=("Catalog Editor",))
        )
        scope = conn.execute(
            sa.select(record_scope.c.scope).where(record_scope.c.role == "Catalog Editor")
        ).scalar()
    assert access.can("catalog.product", "create")
    assert not access.can("catalog.product", "delete")
    assert scope == "own"


def test_an_existing_role_keeps_its_grants_and_is_extended_on_the_plugins_own_entities_only(
    platform_with, actor
):
    from xrm.core.security import grants

    roles_declared = [
        {
            "name": "Catalog Editor",
            "permissions": {"catalog.product": ["read", "create"], "other.thing": ["delete"]},
            "scopes": {"catalog.product": "own", "other.thing": "all"},
        }
    ]
    p, lc = platform_with(catalog=Catalog(roles=roles_declared))
    with p.engine.begin() as conn:  # the administrator made it first, for something else
        grants.grant(conn, "Catalog Editor", "other.thing", ["read"])
    plan = lc.plan_install("catalog")
    assert plan.roles == [{"name": "Catalog Editor", "action": "extend"}]
    # another entity, not the plugin's: its declared grants there are not given to the role
    p.registry.apply_documents([{"x-xrm": {"name": "other.thing"}, "properties": {}}])
    change = lc.install("catalog", actor=actor)
    assert change.roles == [{"name": "Catalog Editor", "action": "extend"}]
    editor = type(actor)(user_id=7, username="eve", roles=("Catalog Editor",))
    with p.engine.connect() as conn:
        access = resolve_access(conn, editor)
        scopes = dict(
            conn.execute(
                sa.select(record_scope.c.entity, record_scope.c.scope).where(
                    record_scope.c.role == "Catalog Editor"
                )
            ).all()
        )
    assert access.can("catalog.product", "create")  # the plugin's own, new entity
    assert access.can("other.thing", "read") and not access.can("other.thing", "delete")
    assert scopes == {"catalog.product": "own"}


def test_an_upgrade_gives_back_no_grant_the_administrator_revoked(platform_with, actor):
    from xrm.core.security import grants

    p, lc = platform_with(catalog=Catalog(version="1.0.0"))
    lc.install("catalog", actor=actor)
    with p.engine.begin() as conn:
        grants.revoke(conn, "Catalog Editor", "catalog.product", ["create"])
    p2, lc2 = platform_with(catalog=Catalog(version="1.1.0"))
    assert lc2.plan_upgrade("catalog").roles == [{"name": "Catalog Editor", "action": "keep"}]
    lc2.upgrade("catalog", actor=actor)
    with p2.engine.connect() as conn:
        access = resolve_access(
            conn, type(actor)(user_id=7, username="eve", roles=("Catalog Editor",))
        )
    assert access.can("catalog.product", "read") and not access.can("catalog.product", "create")


def test_a_dry_run_plan_shows_what_install_does_and_changes_nothing(platform_with):
    p, lc = platform_with(catalog=Catalog())
    version = p.registry.version()
    plan = lc.plan_install("catalog").as_dict()
    assert [op["description"] for op in plan["definitions"]["operations"]] == [
        "create entity catalog.product (new table)"
    ]
    assert plan["definitions"]["optionSets"] == ["catalog.colour"]
    assert plan["roles"] == [{"name": "Catalog Editor", "action": "create"}]
    assert "catalog_product" not in tables(p)
    assert state(p) == {} and p.registry.version() == version


def test_installing_twice_is_a_conflict(platform_with, actor):
    _, lc = platform_with(catalog=Catalog())
    lc.install("catalog", actor=actor)
    with pytest.raises(PluginStateConflict, match="'catalog' is already installed"):
        lc.install("catalog", actor=actor)


def test_install_runs_every_data_migration_up_to_the_version_in_order(platform_with, actor):
    ran = []

    def seed(version):
        def run(ctx):
            ran.append((version, ctx.from_version, ctx.to_version))
            ctx.records.create(ctx.conn, ctx.actor, "catalog.product", {"title": f"v{version}"})

        return run

    migrations = [
        {"version": v, "description": f"to {v}", "run": seed(v)}
        for v in ("1.1.0", "0.9.0", "2.0.0")
    ]
    p, lc = platform_with(catalog=Catalog(version="1.1.0", migrations=migrations))
    change = lc.install("catalog", actor=actor)
    assert ran == [("0.9.0", None, "1.1.0"), ("1.1.0", None, "1.1.0")]
    assert [m["version"] for m in change.migrations] == ["0.9.0", "1.1.0"]
    with p.engine.connect() as conn:
        titles = conn.execute(sa.text("SELECT title FROM catalog_product ORDER BY id")).scalars()
        assert list(titles) == ["v0.9.0", "v1.1.0"]


def test_a_dependency_must_be_installed_first(platform_with, actor):
    p, lc = platform_with(catalog=Catalog(), orders=Orders())
    with pytest.raises(
        PluginDependencyError,
        match=re.escape("'orders' requires 'catalog>=1.0', which is not installed"),
    ):
        lc.install("orders", actor=actor)
    lc.install("catalog", actor=actor)
    lc.install("orders", actor=actor)
    fields = [f.name for f in p.registry.snapshot().entity("catalog.product").definition.fields]
    assert fields == ["title", "orderable"]


def test_a_role_on_an_unknown_entity_is_refused_naming_the_plugin(platform_with, actor):
    bad = [{"name": "X", "permissions": {"nowhere.thing": ["read"]}}]
    p, lc = platform_with(catalog=Catalog(roles=bad))
    with pytest.raises(
        PluginInvalid,
        match=re.escape("'catalog' declares roles on entities that do not exist: nowhere.thing"),
    ):
        lc.install("catalog", actor=actor)
    assert "catalog_product" not in tables(p)


def test_malformed_roles_and_migrations_report_every_problem(platform_with):
    roles_ = [
        {
            "name": "A",
            "permissions": {"catalog.product": ["fly"]},
            "scopes": {"catalog.product": "mine"},
        }
    ]
    migrations = [{"version": "not a version", "run": print}, {"version": "1.0", "run": 3}]
    _, lc = platform_with(catalog=Catalog(roles=roles_, migrations=migrations))
    with pytest.raises(PluginInvalid) as info:
        lc.plan_install("catalog")
    message = str(info.value)
    assert "unknown action 'fly'" in message and "unknown scope 'mine'" in message
    with pytest.raises(PluginInvalid) as info:
        _, lc = platform_with(catalog=Catalog(migrations=migrations))
        lc.plan_install("catalog")
    assert "'not a version'" in str(info.value) and "'run' must be a callable" in str(info.value)


# -- all or nothing -----------------------------------------------------------------------------


def test_a_failing_data_migration_leaves_nothing_of_the_install(platform_with, actor):
    def boom(ctx):
        ctx.records.create(ctx.conn, ctx.actor, "catalog.product", {"title": "half"})
        raise RuntimeError("migration failed on purpose")

    p, lc = platform_with(catalog=Catalog(migrations=[{"version": "1.0.0", "run": boom}]))
    version = p.registry.version()
    with pytest.raises(RuntimeError, match="on purpose"):
        lc.install("catalog", actor=actor)
    assert "catalog_product" not in tables(p)
    assert "catalog.product" not in p.registry.snapshot().entities
    assert "catalog.colour" not in p.registry.option_sets()
    assert "Catalog Editor" not in roles(p)
    assert state(p) == {}
    assert p.registry.version() == version
    # nothing is left behind that would stop a fixed plugin from installing
    p2, lc2 = platform_with(catalog=Catalog())
    lc2.install("catalog", actor=actor)
    assert "catalog.product" in p2.registry.snapshot().entities


def test_a_failing_upgrade_keeps_the_installed_version_and_definitions(platform_with, actor):
    _, lc = platform_with(catalog=Catalog())
    lc.install("catalog", actor=actor)

    def boom(ctx):
        raise RuntimeError("upgrade migration failed")

    new = Catalog(
        version="2.0.0",
        fields={"title": {"type": "string"}, "sku": {"type": "string"}},
        migrations=[{"version": "2.0.0", "run": boom}],
    )
    p2, lc2 = platform_with(catalog=new)
    with pytest.raises(RuntimeError, match="upgrade migration failed"):
        lc2.upgrade("catalog", actor=actor)
    assert state(p2)["catalog"].version == "1.0.0"
    fields = [f.name for f in p2.registry.snapshot().entity("catalog.product").definition.fields]
    assert fields == ["title"]
    with p2.engine.connect() as conn:
        assert "sku" not in {c["name"] for c in sa.inspect(conn).get_columns("catalog_product")}


# -- upgrade ------------------------------------------------------------------------------------


def test_upgrade_plans_the_change_keeps_admin_layers_and_runs_migrations_between_versions(
    platform_with, actor
):
    p, lc = platform_with(catalog=Catalog(version="1.0.0"))
    lc.install("catalog", actor=actor)
    # the administrator customises the plugin's entity: a field of their own
    p.registry.apply_documents(
        [
            {
                "x-xrm": {"name": "catalog.product"},
                "properties": {"title": {"type": "string"}, "note": {"type": "string"}},
            }
        ]
    )
    ran = []
    migrations = [
        {"version": v, "run": functools.partial(lambda version, ctx: ran.append(version), v)}
        for v in ("1.0.0", "1.5.0", "1.2.0", "2.1.0")
    ]
    new = Catalog(
        version="2.0.0",
        fields={"title": {"type": "string"}, "sku": {"type": "string"}},
        migrations=migrations,
    )
    p2, lc2 = platform_with(catalog=new)
    plan = lc2.plan_upgrade("catalog")
    assert "add text field sku" in [op.describe() for op in plan.definitions.operations]
    assert [m["version"] for m in plan.migrations] == ["1.2.0", "1.5.0"]
    change = lc2.upgrade("catalog", actor=actor)
    assert ran == ["1.2.0", "1.5.0"]
    assert (change.from_version, change.to_version) == ("1.0.0", "2.0.0")
    fields = [f.name for f in p2.registry.snapshot().entity("catalog.product").definition.fields]
    assert set(fields) == {"title", "sku", "note"}
    row = state(p2)["catalog"]
    assert row.version == "2.0.0" and row.upgraded_by == "system" and row.upgraded_at


def test_an_entity_dropped_by_a_new_version_is_archived_by_the_upgrade(platform_with, actor):
    class Two(Catalog):
        @staticmethod
        def _extra():
            return {"x-xrm": {"name": "catalog.tag"}, "properties": {"label": {"type": "string"}}}

        @hookimpl
        def xrm_entity_definitions(self):
            docs = super().xrm_entity_definitions()
            return docs + ([self._extra()] if self.version == "1.0.0" else [])

    p, lc = platform_with(catalog=Two())
    lc.install("catalog", actor=actor)
    assert "catalog.tag" in p.registry.snapshot().entities
    p2, lc2 = platform_with(catalog=Two(version="1.1.0"))
    plan = lc2.plan_upgrade("catalog")
    assert [op.describe() for op in plan.definitions.operations] == [
        "remove entity catalog.tag: its table is archived (hidden, restorable)"
    ]
    with pytest.raises(PlanRefused, match="Confirm to apply"):
        lc2.upgrade("catalog", actor=actor)
    lc2.upgrade("catalog", actor=actor, confirm=True)
    assert "catalog.tag" not in p2.registry.snapshot().entities


def test_a_downgrade_is_refused(platform_with, actor):
    _, lc = platform_with(catalog=Catalog(version="2.0.0"))
    lc.install("catalog", actor=actor)
    _, lc2 = platform_with(catalog=Catalog(version="1.0.0"))
    with pytest.raises(
        PluginStateConflict, match=re.escape("1.0.0 is older than the installed 2.0.0")
    ):
        lc2.plan_upgrade("catalog")


def test_a_loaded_dependent_that_rejects_the_new_version_stops_the_start(make_app):
    with pytest.raises(PluginDependencyError, match=re.escape("'orders' requires 'catalog<2'")):
        make_app(plugins={"catalog": Catalog(version="2.0.0"), "orders": Orders(["catalog<2"])})


# -- enable / disable ---------------------------------------------------------------------------


def installed_pair(platform_with, actor, orders=None):
    orders = orders or Orders()
    p, lc = platform_with(catalog=Catalog(), orders=orders)
    lc.install("catalog", actor=actor)
    lc.install("orders", actor=actor)
    return p, lc, orders


def test_a_disabled_plugin_is_not_called_and_its_menus_hide_but_its_data_stays(
    platform_with, actor
):
    p, lc, orders = installed_pair(platform_with, actor)
    with p.engine.begin() as conn:
        p.records.create(conn, actor, "orders.order", {"qty": 1})
    assert orders.seen == ["orders.order"]
    assert [n for n, _ in active_contributions(p, "xrm_menus")] == ["orders"]

    lc.set_enabled("orders", False, actor=actor)
    with p.engine.begin() as conn:
        p.records.create(conn, actor, "orders.order", {"qty": 2})
    assert orders.seen == ["orders.order"]
    assert active_contributions(p, "xrm_menus") == []
    assert state(p)["orders"].enabled is False
    with p.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders_order")).scalar() == 2

    lc.set_enabled("orders", True, actor=actor)
    with p.engine.begin() as conn:
        p.records.create(conn, actor, "orders.order", {"qty": 3})
    assert orders.seen == ["orders.order", "orders.order"]


def test_another_process_notices_a_disable_on_its_next_request(platform_with, actor):
    _, lc, orders = installed_pair(platform_with, actor)
    other, _ = platform_with(catalog=Catalog(), orders=orders)  # a second worker
    with other.engine.begin() as conn:
        other.records.create(conn, actor, "orders.order", {"qty": 1})
    assert len(orders.seen) == 1
    lc.set_enabled("orders", False, actor=actor)
    with other.engine.begin() as conn:
        other.records.create(conn, actor, "orders.order", {"qty": 1})
    assert len(orders.seen) == 1


def test_a_dependency_cannot_be_disabled_while_a_dependent_is_enabled(platform_with, actor):
    _, lc, _ = installed_pair(platform_with, actor)
    with pytest.raises(PluginStateConflict, match="'catalog' cannot be disabled: 'orders' depend"):
        lc.set_enabled("catalog", False, actor=actor)
    lc.set_enabled("orders", False, actor=actor)
    lc.set_enabled("catalog", False, actor=actor)
    with pytest.raises(PluginDependencyError, match="requires 'catalog', which is disabled"):
        lc.set_enabled("orders", True, actor=actor)


def test_the_environment_switches_a_plugin_off_in_this_process(make_app, actor):
    from xrm.core.plugins.lifecycle import PluginLifecycle

    orders = Orders()
    app = make_app(plugins={"catalog": Catalog(), "orders": orders})
    p = app.extensions["xrm"]
    PluginLifecycle(p).install("catalog", actor=actor)
    PluginLifecycle(p).install("orders", actor=actor)
    off = make_app(plugins={"catalog": Catalog(), "orders": orders}, DISABLE_PLUGIN=("orders",))
    q = off.extensions["xrm"]
    with q.engine.begin() as conn:
        q.records.create(conn, actor, "orders.order", {"qty": 1})
    assert orders.seen == []
    assert q.plugin_states.active() == ["catalog"]


def test_the_environment_variable_names_the_plugins_to_switch_off():
    from xrm.settings import Settings

    s = Settings.load(
        {"INSTANCE_PATH": "/tmp/xrm-settings-test"}, env={"XRM_DISABLE_PLUGIN": "crm, vrm"}
    )
    assert s.plugins_disabled == ("crm", "vrm")


# -- uninstall ----------------------------------------------------------------------------------


def test_uninstall_is_refused_while_entities_hold_data_and_purge_archives_them(
    platform_with, actor
):
    p, lc = platform_with(catalog=Catalog())
    lc.install("catalog", actor=actor)
    with p.engine.begin() as conn:
        p.records.create(conn, actor, "catalog.product", {"title": "kept"})
    with pytest.raises(PluginStateConflict, match=r"catalog.product \(1 rows\)") as info:
        lc.uninstall("catalog", actor=actor)
    assert info.value.details == {"data": {"catalog.product": 1}}
    assert "catalog" in state(p) and "catalog.product" in p.registry.snapshot().entities

    change = lc.uninstall("catalog", purge=True, actor=actor)
    assert "catalog" not in state(p)
    assert "catalog.product" not in p.registry.snapshot().entities
    [archived] = change.archived_tables
    with p.engine.connect() as conn:  # archived, not dropped: the data is still there
        assert conn.execute(sa.text(f'SELECT title FROM "{archived}"')).scalar() == "kept"


def test_uninstall_of_an_empty_plugin_needs_no_purge(platform_with, actor):
    p, lc = platform_with(catalog=Catalog())
    lc.install("catalog", actor=actor)
    lc.uninstall("catalog", actor=actor)
    assert state(p) == {} and "catalog.product" not in p.registry.snapshot().entities
    lc.install("catalog", actor=actor)  # and it can come back
    assert "catalog.product" in p.registry.snapshot().entities


def test_extension_fields_holding_data_also_block_uninstall(platform_with, actor):
    p, lc, _ = installed_pair(platform_with, actor)
    with p.engine.begin() as conn:
        p.records.create(conn, actor, "catalog.product", {"title": "a", "orderable": True})
    with pytest.raises(
        PluginStateConflict, match=r"orders cannot|catalog.product.orderable \(1 rows\)"
    ):
        lc.uninstall("orders", actor=actor)


def test_dependents_block_uninstalling_a_dependency(platform_with, actor):
    _, lc, _ = installed_pair(platform_with, actor)
    with pytest.raises(
        PluginStateConflict, match="'catalog' cannot be uninstalled: 'orders' depend"
    ):
        lc.uninstall("catalog", actor=actor)


def test_uninstalling_an_extension_plugin_archives_its_fields(platform_with, actor):
    p, lc, _ = installed_pair(platform_with, actor)
    lc.uninstall("orders", actor=actor)
    fields = [f.name for f in p.registry.snapshot().entity("catalog.product").definition.fields]
    assert fields == ["title"]
    assert list(state(p)) == ["catalog"]


def test_lifecycle_changes_bump_the_metadata_version(platform_with, actor):
    p, lc = platform_with(catalog=Catalog())
    lc.install("catalog", actor=actor)
    before = p.registry.version()
    lc.set_enabled("catalog", False, actor=actor)
    assert p.registry.version() == before + 1
    with p.engine.connect() as conn:
        assert conn.execute(sa.select(installed_plugin.c.enabled)).scalar() is False
        assert store.read_version(conn) == before + 1


# -- workflows and rules ------------------------------------------------------------------------

TASK = {
    "x-xrm": {"name": "todo.task"},
    "required": ["title"],
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "done"], "default": "open"},
    },
}


def task_flow(to="done"):
    return {
        "name": "todo.task_flow",
        "entity": "todo.task",
        "stateField": "status",
        "states": {"open": {"initial": True}, "done": {"final": True}},
        "transitions": [{"name": "finish", "from": "open", "to": to}],
    }


class Todo:
    def __init__(self, flow):
        self.flow = flow

    @hookimpl
    def xrm_entity_definitions(self):
        return [TASK]

    @hookimpl
    def xrm_workflows(self):
        return [self.flow]


def test_install_installs_the_plugins_workflows_in_the_same_transaction(platform_with, actor):
    p, lc = platform_with(todo=Todo(task_flow()))
    change = lc.install("todo", actor=actor)
    assert change.workflows == ["todo.task_flow"]
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "todo.task", {"title": "write docs"})["id"]
        done = p.workflows.fire(conn, actor, "todo.task", rid, "finish")
    assert done["status"] == "done"


def test_an_invalid_workflow_refuses_the_whole_install(platform_with, actor):
    from xrm.metadata.errors import DefinitionInvalid

    p, lc = platform_with(todo=Todo(task_flow(to="nowhere")))
    with pytest.raises(DefinitionInvalid, match="todo"):
        lc.install("todo", actor=actor)
    assert "todo_task" not in tables(p) and state(p) == {}


def test_a_disabled_plugins_transition_hooks_are_not_called(platform_with, actor):
    seen = []

    class Watched(Todo):
        @hookimpl
        def xrm_after_transition(self, event):
            seen.append(event.transition)

    p, lc = platform_with(todo=Watched(task_flow()))
    lc.install("todo", actor=actor)
    with p.engine.begin() as conn:
        first = p.records.create(conn, actor, "todo.task", {"title": "a"})["id"]
        second = p.records.create(conn, actor, "todo.task", {"title": "b"})["id"]
        p.workflows.fire(conn, actor, "todo.task", first, "finish")
    lc.set_enabled("todo", False, actor=actor)
    with p.engine.begin() as conn:
        p.workflows.fire(conn, actor, "todo.task", second, "finish")
    assert seen == ["finish"]
