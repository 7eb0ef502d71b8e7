"""Every hook in xrm.core.plugins.hookspecs has a test here, named test_hook_<hook name>.

``test_every_hook_has_a_test`` fails when a hook is added without one (a datasette habit).
Plugins are registered per test through the application factory, never globally.
"""

from __future__ import annotations

import inspect
import sys

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM
from xrm.core.plugins import (
    PluginError,
    create_plugin_manager,
    hookimpl,
    hookspecs,
    plugin_infos,
    plugin_layer_changes,
    plugin_names,
    plugin_option_sets,
)
from xrm.core.plugins.lifecycle import PluginLifecycle


def hook_names() -> list[str]:
    return sorted(
        n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("xrm_")
    )


def test_every_hook_has_a_test():
    module = sys.modules[__name__]
    missing = [h for h in hook_names() if not hasattr(module, f"test_hook_{h}")]
    assert missing == [], f"hooks without a test: {missing}"


def test_a_misspelled_hook_fails_at_start_up():
    class Typo:
        @hookimpl
        def xrm_entity_definiton(self):  # misspelled on purpose
            return []

    with pytest.raises(Exception, match="xrm_entity_definiton"):
        create_plugin_manager(discover=False, extra={"typo": Typo()})


class Shop:
    @hookimpl
    def xrm_plugin_info(self):
        return {"name": "shop", "label": "Shop", "version": "1.2.3"}

    @hookimpl
    def xrm_entity_definitions(self):
        return [
            {
                "x-xrm": {"name": "shop.product"},
                "required": ["title"],
                "properties": {"title": {"type": "string"}},
            }
        ]


class Reviews:
    @hookimpl
    def xrm_entity_extensions(self):
        return [
            {
                "entity": "shop.product",
                "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}},
            }
        ]


def test_hook_xrm_plugin_info(make_app):
    class Cart:
        @hookimpl
        def xrm_plugin_info(self):
            return {"name": "cart", "version": "0.2.0", "requires": ["shop>=1.2"]}

    # the declared requirement orders the plugins (a dependency first, whatever the names)
    pm = create_plugin_manager(discover=False, extra={"cart": Cart(), "shop": Shop()})
    assert plugin_names(pm) == ["shop", "cart"]
    assert plugin_infos(pm)["cart"].requires[0].name == "shop"
    # ... and the declared version is what the install records
    app = make_app(plugins={"shop": Shop(), "cart": Cart()})
    lc = PluginLifecycle(app.extensions["xrm"])
    lc.install("shop", actor=SYSTEM)
    assert lc.install("cart", actor=SYSTEM).to_version == "0.2.0"
    assert {n: s.version for n, s in lc.installed().items()} == {"cart": "0.2.0", "shop": "1.2.3"}


def test_hook_xrm_entity_definitions(make_app):
    app = make_app(plugins={"shop": Shop()})
    p = app.extensions["xrm"]
    p.registry.apply(p.registry.plan(changes=plugin_layer_changes(p.plugins)))
    snap = p.registry.snapshot()
    assert snap.entity("shop.product").definition.layer == "plugin:shop"
    with p.engine.connect() as conn:
        assert sa.inspect(conn).has_table("shop_product")


def test_hook_xrm_entity_extensions(make_app):
    app = make_app(plugins={"shop": Shop(), "reviews": Reviews()})
    p = app.extensions["xrm"]
    changes = plugin_layer_changes(p.plugins)
    assert {(c.entity, c.layer, c.source) for c in changes} == {
        ("shop.product", "base", "plugin:shop"),
        ("shop.product", "ext:reviews", "plugin:reviews"),
    }
    p.registry.apply(p.registry.plan(changes=changes))
    fields = [f.name for f in p.registry.snapshot().entity("shop.product").definition.fields]
    assert fields == ["title", "stars"]


def test_hook_xrm_option_sets(make_app):
    class Sizes:
        @hookimpl
        def xrm_option_sets(self):
            return [
                {"name": "shop.size", "options": [{"value": "s"}, {"value": "m"}, {"value": "l"}]}
            ]

        @hookimpl
        def xrm_entity_definitions(self):
            return [
                {
                    "x-xrm": {"name": "shop.shirt"},
                    "properties": {"size": {"x-xrm": {"type": "choice", "optionSet": "shop.size"}}},
                }
            ]

    app = make_app(plugins={"sizes": Sizes()})
    p = app.extensions["xrm"]
    assert plugin_option_sets(p.plugins)[0]["name"] == "shop.size"
    plan = p.registry.plan(
        changes=plugin_layer_changes(p.plugins), option_sets=plugin_option_sets(p.plugins)
    )
    p.registry.apply(plan)
    assert list(p.registry.snapshot().entity("shop.shirt").fields["size"].spec.kw("enum")) == [
        "s",
        "m",
        "l",
    ]


def test_hook_xrm_app_ready(make_app):
    seen = []

    class Ready:
        @hookimpl
        def xrm_app_ready(self, app):
            seen.append(app.name)

    first = make_app(plugins={"ready": Ready()})
    assert seen == []  # loaded, not installed yet: its hooks are not called
    PluginLifecycle(first.extensions["xrm"]).install("ready", actor=SYSTEM)
    make_app(plugins={"ready": Ready()})
    assert seen == ["xrm"]


def test_an_extension_without_entity_is_a_clear_plugin_error():
    class Broken:
        @hookimpl
        def xrm_entity_extensions(self):
            return [{"properties": {}}]

    pm = create_plugin_manager(discover=False, extra={"broken": Broken()})
    with pytest.raises(PluginError, match="broken"):
        plugin_layer_changes(pm)


def test_deny_list_skips_a_plugin():
    pm = create_plugin_manager(discover=False, deny=("shop",), extra={"shop": Shop()})
    assert pm.get_plugin("shop") is None


ITEM = {
    "x-xrm": {"name": "shop.item"},
    "properties": {"title": {"type": "string"}, "qty": {"type": "integer"}},
}


def item_app(make_app, plugin):
    app = make_app(plugins={"probe": plugin})
    p = app.extensions["xrm"]
    p.registry.apply_documents([ITEM])
    PluginLifecycle(p).install("probe", actor=SYSTEM)
    return p, SYSTEM


def test_hook_xrm_before_create(make_app):
    from xrm.core.plugins import RecordVetoed

    class Probe:
        @hookimpl
        def xrm_before_create(self, event):
            if event.values.get("qty", 0) < 0:
                raise RecordVetoed("stock cannot be negative", field="qty")
            event.values["title"] = (event.values.get("title") or "").upper()

    p, actor = item_app(make_app, Probe())
    with p.engine.begin() as conn:
        assert (
            p.records.create(conn, actor, "shop.item", {"title": "pen", "qty": 1})["title"] == "PEN"
        )
    with p.engine.begin() as conn, pytest.raises(RecordVetoed) as info:
        p.records.create(conn, actor, "shop.item", {"title": "pen", "qty": -1})
    assert info.value.problems[0]["pointer"] == "/qty"


def test_hook_xrm_after_create(make_app):
    seen = []

    class Probe:
        @hookimpl
        def xrm_after_create(self, event):
            seen.append((event.entity, event.record_id, event.after["title"]))

    p, actor = item_app(make_app, Probe())
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.item", {"title": "pen"})["id"]
    assert seen == [("shop.item", rid, "pen")]


def test_hook_xrm_before_update(make_app):
    from xrm.core.plugins import RecordVetoed

    class Probe:
        @hookimpl
        def xrm_before_update(self, event):
            if event.before["qty"] == 0 and "qty" in event.values:
                raise RecordVetoed("sold out items are frozen")

    p, actor = item_app(make_app, Probe())
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.item", {"title": "pen", "qty": 0})["id"]
    with p.engine.begin() as conn, pytest.raises(RecordVetoed, match="frozen"):
        p.records.update(conn, actor, "shop.item", rid, {"qty": 5})


def test_hook_xrm_after_update(make_app):
    seen = []

    class Probe:
        @hookimpl
        def xrm_after_update(self, event):
            seen.append((event.before["qty"], event.after["qty"]))

    p, actor = item_app(make_app, Probe())
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.item", {"title": "pen", "qty": 1})["id"]
        p.records.update(conn, actor, "shop.item", rid, {"qty": 2})
    assert seen == [(1, 2)]


def test_a_record_hook_that_declares_its_entities_is_called_for_those_only(make_app):
    from xrm.core.plugins import concerns

    seen = []

    class Probe:
        @hookimpl
        @concerns("shop.other")
        def xrm_after_update(self, event):
            seen.append(event.entity)

        @hookimpl
        @concerns("shop.item")
        def xrm_before_update(self, event):
            event.values["title"] = "touched"

    p, actor = item_app(make_app, Probe())
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.item", {"title": "pen", "qty": 1})["id"]
        after = p.records.update(conn, actor, "shop.item", rid, {"qty": 2})
    assert after["title"] == "touched" and seen == []


def test_concerns_applies_to_record_hooks_only_and_needs_entities():
    from xrm.core.plugins import concerns

    with pytest.raises(TypeError, match="record hooks"):

        @concerns("shop.item")
        def xrm_menus():
            return []

    with pytest.raises(TypeError, match="names of the entities"):
        concerns()


def test_hook_xrm_before_delete(make_app):
    from xrm.core.plugins import RecordVetoed

    class Probe:
        @hookimpl
        def xrm_before_delete(self, event):
            raise RecordVetoed(f"{event.before['title']} is archived, not deleted")

    p, actor = item_app(make_app, Probe())
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.item", {"title": "pen"})["id"]
    with p.engine.begin() as conn, pytest.raises(RecordVetoed, match="pen is archived"):
        p.records.delete(conn, actor, "shop.item", rid)
    with p.engine.connect() as conn:
        assert p.records.get(conn, actor, "shop.item", rid)["title"] == "pen"


def test_hook_xrm_after_delete(make_app):
    seen = []

    class Probe:
        @hookimpl
        def xrm_after_delete(self, event):
            seen.append(event.record_id)

    p, actor = item_app(make_app, Probe())
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.item", {"title": "pen"})["id"]
        p.records.delete(conn, actor, "shop.item", rid)
    assert seen == [rid]


# The hooks below are collected with plugin_contributions (attributed to their plugin, in plugin
# order); the subsystems that consume them test what they do with the items in their own modules.


class Everything:
    """A plugin implementing every contribution hook once."""

    @hookimpl
    def xrm_workflows(self):
        return [{"name": "shop.order_flow", "entity": "shop.order"}]

    @hookimpl
    def xrm_rules(self):
        return [{"name": "shop.order_rules", "entity": "shop.order"}]

    @hookimpl
    def xrm_action_types(self):
        return [{"name": "shop.ship", "params": {}, "run": lambda ctx, params, record: None}]

    @hookimpl
    def xrm_cel_functions(self):
        from xrm.workflow.expressions.functions import Function
        from xrm.workflow.expressions.types import DOUBLE, STRING

        return [Function("vatRate", (((STRING.kind,), DOUBLE),), impl=lambda c: 0.19)]

    @hookimpl
    def xrm_menus(self):
        return [{"name": "shop", "label": "Shop", "items": [{"entity": "shop.order"}]}]

    @hookimpl
    def xrm_views(self):
        return [{"name": "shop.open", "entity": "shop.order", "kind": "list"}]

    @hookimpl
    def xrm_dashboards(self):
        return [{"name": "shop.sales", "charts": [{"type": "number", "entity": "shop.order"}]}]


def contributed(hook):
    from xrm.core.plugins import plugin_contributions

    pm = create_plugin_manager(discover=False, extra={"shop": Everything(), "blank": Shop()})
    return [
        (plugin, item.get("name") if isinstance(item, dict) else item.name)
        for plugin, item in plugin_contributions(pm, hook)
    ]


def test_hook_xrm_default_roles(make_app):
    from xrm.core.context import Actor
    from xrm.core.security.access import resolve_access

    class Clerks(Shop):
        @hookimpl
        def xrm_default_roles(self):
            return [
                {
                    "name": "Shop Clerk",
                    "permissions": {"shop.product": ["read", "update"]},
                    "scopes": {"shop.product": "team"},
                }
            ]

    app = make_app(plugins={"shop": Clerks()})
    p = app.extensions["xrm"]
    PluginLifecycle(p).install("shop", actor=SYSTEM)
    clerk = Actor(user_id=5, username="clerk", roles=("Shop Clerk",))
    with p.engine.connect() as conn:
        access = resolve_access(conn, clerk)
    assert access.can("shop.product", "update") and not access.can("shop.product", "create")


def test_hook_xrm_menus():
    assert contributed("xrm_menus") == [("shop", "shop")]


def test_hook_xrm_views():
    assert contributed("xrm_views") == [("shop", "shop.open")]


def test_hook_xrm_dashboards():
    assert contributed("xrm_dashboards") == [("shop", "shop.sales")]


def test_hook_xrm_data_migrations(make_app):
    class Versioned(Shop):
        def __init__(self, version):
            self.version = version

        @hookimpl
        def xrm_plugin_info(self):
            return {"name": "shop", "version": self.version}

        @hookimpl
        def xrm_data_migrations(self):
            def title_case(ctx):
                t = ctx.table("shop.product")
                ctx.conn.execute(t.update().values(title=sa.func.upper(t.c.title)))

            return [{"version": "1.1.0", "description": "titles in capitals", "run": title_case}]

    old = make_app(plugins={"shop": Versioned("1.0.0")}).extensions["xrm"]
    PluginLifecycle(old).install("shop", actor=SYSTEM)  # 1.1.0 > 1.0.0: not run
    with old.engine.begin() as conn:
        old.records.create(conn, SYSTEM, "shop.product", {"title": "pen"})
    new = make_app(plugins={"shop": Versioned("1.1.0")}).extensions["xrm"]
    change = PluginLifecycle(new).upgrade("shop", actor=SYSTEM)
    assert change.migrations == [{"version": "1.1.0", "description": "titles in capitals"}]
    with new.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT title FROM shop_product")).scalar() == "PEN"


def test_hook_xrm_demo_data(make_app):
    from xrm.core.plugins import PluginStateConflict
    from xrm.core.plugins.demo import DemoContext, load_demo

    seen = []

    class Demo(Shop):
        @hookimpl
        def xrm_demo_data(self, context):
            seen.append(context)
            for _ in range(3):
                title = f"item {context.random.randint(1, 10**6)}"
                context.records.create(
                    context.conn, context.actor, "shop.product", {"title": title}
                )

    app = make_app(plugins={"shop": Demo()})
    p = app.extensions["xrm"]
    PluginLifecycle(p).install("shop", actor=SYSTEM)
    assert load_demo(app, p, SYSTEM, seed=7) == ["shop"]
    [context] = seen
    assert isinstance(context, DemoContext) and context.app is app and context.platform is p
    with p.engine.connect() as conn:
        titles = list(conn.execute(sa.text("SELECT title FROM shop_product ORDER BY id")).scalars())
    import random

    rnd = random.Random(7)
    assert titles == [f"item {rnd.randint(1, 10**6)}" for _ in range(3)]  # seeded: reproducible
    with pytest.raises(PluginStateConflict, match="already has demo data of 'shop'"):
        load_demo(app, p, SYSTEM, seed=7)


# --- Workflows, rules, action types, CEL functions, transition hooks: their effect ------------

ORDER = {
    "x-xrm": {"name": "shop.order", "titleField": "title"},
    "required": ["title"],
    "properties": {
        "title": {"type": "string"},
        "country": {"type": "string"},
        "net": {"x-xrm": {"type": "decimal", "precision": 12, "scale": 2}},
        "gross": {"x-xrm": {"type": "decimal", "precision": 12, "scale": 2}, "readOnly": True},
        "status": {"type": "string", "enum": ["open", "shipped"], "default": "open"},
    },
}
ORDER_FLOW = {
    "name": "shop.order_flow",
    "entity": "shop.order",
    "stateField": "status",
    "states": {"open": {"initial": True}, "shipped": {"final": True}},
    "transitions": [
        {
            "name": "ship",
            "from": "open",
            "to": "shipped",
            "actions": [{"type": "shop.ship", "params": {"carrier": "dhl"}}],
        }
    ],
}
ORDER_RULES = {
    "name": "shop.order_rules",
    "entity": "shop.order",
    "computed": [{"field": "gross", "expression": "record.net * (1.0 + vatRate(record.country))"}],
}


class ShopFlow:
    def __init__(self, flow=ORDER_FLOW):
        self.flow = flow
        self.seen = []

    @hookimpl
    def xrm_entity_definitions(self):
        return [ORDER]

    @hookimpl
    def xrm_workflows(self):
        return [self.flow]

    @hookimpl
    def xrm_rules(self):
        return [ORDER_RULES]

    @hookimpl
    def xrm_action_types(self):
        return [
            {
                "name": "shop.ship",
                "params": {"carrier": {"enum": ["dhl", "ups"]}},
                "required": ["carrier"],
                "run": lambda ctx, params, record: None,
            }
        ]

    @hookimpl
    def xrm_cel_functions(self):
        from xrm.core.plugins import cel_function

        return [
            cel_function("vatRate", ["string"], "double", impl=lambda c: 0.19 if c == "DE" else 0.0)
        ]

    @hookimpl
    def xrm_before_transition(self, event):
        self.seen.append(("before", event.transition, event.before["status"]))
        if event.comment == "veto":
            from xrm.core.records.events import RecordVetoed

            raise RecordVetoed("not today")

    @hookimpl
    def xrm_after_transition(self, event):
        self.seen.append(("after", event.transition, event.after["status"]))


def shop_flow_app(make_app, plugin=None):
    from xrm.core.context import Actor
    from xrm.core.workflows import sync_plugin_documents

    plugin = plugin or ShopFlow()
    app = make_app(plugins={"shop": plugin})
    p = app.extensions["xrm"]
    p.registry.apply(p.registry.plan(changes=plugin_layer_changes(p.plugins)))
    with p.engine.begin() as conn:
        plans = sync_plugin_documents(conn, p)
    PluginLifecycle(p).install("shop", actor=SYSTEM)  # active: its hooks are called
    actor = Actor(user_id=None, username="root", roles=("Admin",), is_admin=True)
    return p, actor, plans, plugin


def test_hook_xrm_workflows(make_app):
    p, actor, plans, _ = shop_flow_app(make_app)
    assert [(x.kind, x.name, x.source, x.revision) for x in plans] == [
        ("rules", "shop.order_rules", "plugin:shop", 1),
        ("workflow", "shop.order_flow", "plugin:shop", 1),
    ]
    with p.engine.begin() as conn:
        rec = p.records.create(conn, actor, "shop.order", {"title": "pen", "status": "open"})
        assert rec["status"] == "open"
        # The plugin's workflow is enforced: writing the state fires its transition...
        shipped = p.records.update(conn, actor, "shop.order", rec["id"], {"status": "shipped"})
        assert shipped["status"] == "shipped"
        # ...and no transition leaves the final state.
        with pytest.raises(Exception) as exc:
            p.records.update(conn, actor, "shop.order", rec["id"], {"status": "open"})
    assert "only by a transition" in exc.value.problems[0]["message"]


def test_hook_xrm_rules(make_app):
    p, actor, _, _ = shop_flow_app(make_app)
    with p.engine.begin() as conn:
        rec = p.records.create(
            conn, actor, "shop.order", {"title": "pen", "net": "100", "country": "DE"}
        )
    assert rec["gross"] == "119.00"


def test_hook_xrm_action_types(make_app):
    import json

    from xrm.core.tables import outbox

    p, actor, _, _ = shop_flow_app(make_app)
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.order", {"title": "pen"})["id"]
        p.workflows.fire(conn, actor, "shop.order", rid, "ship")
        [row] = conn.execute(sa.select(outbox).where(outbox.c.topic == "action.shop.ship")).all()
    assert json.loads(row.payload)["params"] == {"carrier": "dhl"}
    bad = json.loads(json.dumps(ORDER_FLOW))
    bad["transitions"][0]["actions"][0]["params"] = {"carrier": "pigeon"}
    with p.engine.connect() as conn:
        found = p.workflows.verify(conn, "workflow", bad)
    assert [e["pointer"] for e in found["errors"]] == ["/transitions/0/actions/0/params/carrier"]


def test_hook_xrm_cel_functions(make_app):
    p, actor, _, _ = shop_flow_app(make_app)
    with p.engine.begin() as conn:
        rec = p.records.create(
            conn, actor, "shop.order", {"title": "pen", "net": "10", "country": "FR"}
        )
        found = p.workflows.verify(
            conn,
            "rules",
            {**ORDER_RULES, "computed": [{"field": "gross", "expression": "vatRate(1)"}]},
        )
    assert rec["gross"] == "10.00"  # the plugin's implementation ran (no VAT in FR here)
    assert (
        found["errors"] and "vatRate" in found["errors"][0]["message"]
    )  # and its types are checked


def test_hook_xrm_before_transition(make_app):
    from xrm.core.records.events import RecordVetoed

    p, actor, _, plugin = shop_flow_app(make_app)
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.order", {"title": "pen"})["id"]
    with p.engine.begin() as conn, pytest.raises(RecordVetoed, match="not today"):
        p.workflows.fire(conn, actor, "shop.order", rid, "ship", comment="veto")
    with p.engine.begin() as conn:
        assert p.records.get(conn, actor, "shop.order", rid)["status"] == "open"
    assert plugin.seen == [("before", "ship", "open")]


def test_hook_xrm_after_transition(make_app):
    p, actor, _, plugin = shop_flow_app(make_app)
    with p.engine.begin() as conn:
        rid = p.records.create(conn, actor, "shop.order", {"title": "pen"})["id"]
        p.workflows.fire(conn, actor, "shop.order", rid, "ship")
    assert plugin.seen == [("before", "ship", "open"), ("after", "ship", "shipped")]
