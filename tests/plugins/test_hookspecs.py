"""Every hook in xrm.core.plugins.hookspecs has a test here, named test_hook_<hook name>.

``test_every_hook_has_a_test`` fails when a hook is added without one (a datasette habit).
Plugins are registered per test through the application factory, never globally.
"""

from __future__ import annotations

import inspect
import sys

import pytest
import sqlalchemy as sa

from xrm.core.plugins import (
    PluginError,
    create_plugin_manager,
    hookimpl,
    hookspecs,
    plugin_layer_changes,
    plugin_option_sets,
)


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


def test_hook_xrm_plugin_info():
    pm = create_plugin_manager(discover=False, extra={"shop": Shop()})
    assert pm.hook.xrm_plugin_info() == [{"name": "shop", "label": "Shop", "version": "1.2.3"}]


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
    from xrm.core.context import SYSTEM

    app = make_app(plugins={"probe": plugin})
    p = app.extensions["xrm"]
    p.registry.apply_documents([ITEM])
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
