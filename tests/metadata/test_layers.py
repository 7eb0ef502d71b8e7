"""Layered definitions: a plugin's base document, other plugins' extensions and the
administrator's customisation, which survives upgrades of the plugin."""

from __future__ import annotations

from typing import Any

import pytest

from xrm.metadata.errors import DefinitionInvalid
from xrm.metadata.layers import (
    apply_extension,
    effective_document,
    layer_order,
    make_merge_patch,
    merge_patch,
)
from xrm.metadata.model import thaw
from xrm.metadata.registry import LayerChange

PLUGIN = "plugin:crm"

CONTACT_V1 = {
    "x-xrm": {"name": "crm.contact", "labels": {"singular": "Contact"}},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "email": {"type": "string", "format": "email", "title": "E-mail"},
    },
}

CONTACT_V2 = {
    "x-xrm": {"name": "crm.contact", "labels": {"singular": "Contact"}},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "email": {"type": "string", "format": "email", "title": "E-mail"},
        "phone": {"type": "string", "format": "phone", "title": "Phone"},
    },
}

MARKETING = {
    "properties": {"newsletter": {"type": "boolean", "title": "Newsletter", "default": False}},
}


def extension(plugin: str, doc: dict[str, Any]) -> LayerChange:
    return LayerChange("crm.contact", f"ext:{plugin}", f"plugin:{plugin}", doc)


def effective(registry, name: str = "crm.contact") -> dict[str, Any]:
    return thaw(registry.snapshot().entity(name).definition.document)


def labels(registry, name: str = "crm.contact") -> dict[str, str]:
    return {n: f.spec.label for n, f in registry.snapshot().entity(name).fields.items()}


def stored_layers(registry, name: str = "crm.contact") -> dict[str, dict]:
    with registry.engine.connect() as conn:
        return registry.layers(conn, [name]).get(name, {})


def customise(registry, change) -> int:
    """What the admin UI does: edit the effective document and plan it as the admin."""
    doc = effective(registry)
    change(doc)
    return registry.apply(registry.plan([doc], source="admin"), confirm=True)


@pytest.fixture
def plugin_entity(registry):
    registry.apply(registry.plan([CONTACT_V1], source=PLUGIN))
    return registry


def relabel_and_add_vip(doc: dict[str, Any]) -> None:
    doc["properties"]["name"]["title"] = "Full name"
    doc["properties"]["vip"] = {"type": "boolean", "title": "VIP"}


# -- the plugin's base layer ------------------------------------------------------------------


def test_a_plugin_document_becomes_the_base_layer_owned_by_the_plugin(plugin_entity):
    assert stored_layers(plugin_entity) == {"base": CONTACT_V1}
    with plugin_entity.engine.connect() as conn:
        assert plugin_entity.sources(conn) == {"crm.contact": PLUGIN}
    assert plugin_entity.snapshot().entity("crm.contact").definition.layer == PLUGIN


def test_an_administrator_document_for_an_own_entity_replaces_its_base_layer(registry):
    doc = {"x-xrm": {"name": "crm.deal"}, "properties": {"title": {"type": "string"}}}
    registry.apply(registry.plan([doc]))
    doc["properties"]["amount"] = {"x-xrm": {"type": "money"}}
    registry.apply(registry.plan([doc]))
    assert stored_layers(registry, "crm.deal") == {"base": doc}


# -- extensions -------------------------------------------------------------------------------


def test_an_extension_adds_fields_to_another_plugins_entity(plugin_entity, engine):
    plugin_entity.apply(plugin_entity.plan(changes=[extension("marketing", MARKETING)]))
    assert list(plugin_entity.snapshot().entity("crm.contact").fields) == [
        "name",
        "email",
        "newsletter",
    ]
    assert stored_layers(plugin_entity)["ext:marketing"] == MARKETING


def test_extensions_of_several_plugins_are_merged(plugin_entity):
    events = {"properties": {"last_event": {"type": "string", "format": "date"}}}
    plugin_entity.apply(
        plugin_entity.plan(changes=[extension("marketing", MARKETING), extension("events", events)])
    )
    assert set(plugin_entity.snapshot().entity("crm.contact").fields) == {
        "name",
        "email",
        "newsletter",
        "last_event",
    }


def test_an_extension_of_an_entity_without_base_is_rejected(registry):
    with pytest.raises(DefinitionInvalid) as info:
        registry.plan(changes=[extension("marketing", MARKETING)])
    assert "has no base definition" in str(info.value)
    assert registry.version() == 0


def test_removing_an_extension_archives_its_fields(plugin_entity, records):
    plugin_entity.apply(plugin_entity.plan(changes=[extension("marketing", MARKETING)]))
    removal = LayerChange("crm.contact", "ext:marketing", "plugin:marketing", None)
    plugin_entity.apply(plugin_entity.plan(changes=[removal]), confirm=True)
    assert "newsletter" not in plugin_entity.snapshot().entity("crm.contact").fields
    assert "ext:marketing" not in stored_layers(plugin_entity)


# -- the administrator's customisation --------------------------------------------------------


def test_an_administrator_change_to_a_plugin_entity_is_stored_as_a_custom_layer(plugin_entity):
    customise(plugin_entity, relabel_and_add_vip)
    layers = stored_layers(plugin_entity)
    assert layers["base"] == CONTACT_V1
    assert layers["custom"]["properties"] == {
        "name": {"title": "Full name"},
        "vip": {"type": "boolean", "title": "VIP"},
    }
    assert labels(plugin_entity) == {"name": "Full name", "email": "E-mail", "vip": "VIP"}


def test_the_entity_stays_owned_by_the_plugin_after_a_customisation(plugin_entity):
    customise(plugin_entity, relabel_and_add_vip)
    with plugin_entity.engine.connect() as conn:
        assert plugin_entity.sources(conn) == {"crm.contact": PLUGIN}
    assert plugin_entity.snapshot().entity("crm.contact").definition.layer == PLUGIN


def test_upgrading_the_plugin_keeps_the_administrators_field_and_label(plugin_entity, records):
    plugin_entity.apply(plugin_entity.plan(changes=[extension("marketing", MARKETING)]))
    customise(plugin_entity, relabel_and_add_vip)
    ada = records.insert("crm.contact", name="Ada", vip=True, newsletter=True)

    plan = plugin_entity.plan([CONTACT_V2], source=PLUGIN)
    assert [op.kind for op in plan.operations if op.kind != "update_entity"] == ["add_field"]
    plugin_entity.apply(plan)

    assert labels(plugin_entity) == {
        "name": "Full name",
        "email": "E-mail",
        "phone": "Phone",
        "newsletter": "Newsletter",
        "vip": "VIP",
    }
    assert stored_layers(plugin_entity)["base"] == CONTACT_V2
    record = records.get("crm.contact", ada)
    assert (record["vip"], record["newsletter"], record["phone"]) == (True, True, None)


def test_an_upgrade_that_drops_a_customised_field_drops_the_customisation_of_it(
    plugin_entity, records
):
    customise(plugin_entity, lambda d: d["properties"]["email"].update(title="Mail"))
    without_email = {**CONTACT_V1, "properties": {"name": CONTACT_V1["properties"]["name"]}}
    plugin_entity.apply(plugin_entity.plan([without_email], source=PLUGIN), confirm=True)
    assert "email" not in plugin_entity.snapshot().entity("crm.contact").fields


def test_a_field_the_administrator_removed_stays_removed_after_an_upgrade(plugin_entity):
    customise(plugin_entity, lambda d: d["properties"].pop("email"))
    assert stored_layers(plugin_entity)["custom"]["properties"] == {"email": None}
    plugin_entity.apply(plugin_entity.plan([CONTACT_V2], source=PLUGIN))
    assert set(plugin_entity.snapshot().entity("crm.contact").fields) == {"name", "phone"}


def test_removing_the_customisation_restores_the_plugins_definition(plugin_entity):
    customise(plugin_entity, relabel_and_add_vip)
    reset = LayerChange("crm.contact", "custom", "admin", None)
    plugin_entity.apply(plugin_entity.plan(changes=[reset]), confirm=True)
    assert labels(plugin_entity) == {"name": "Name", "email": "E-mail"}
    assert "custom" not in stored_layers(plugin_entity)


def test_an_administrator_document_equal_to_the_effective_one_changes_nothing(plugin_entity):
    plan = plugin_entity.plan([effective(plugin_entity)], source="admin")
    assert plan.is_empty
    assert plugin_entity.apply(plan) == plugin_entity.version() == 1


def test_reinstalling_the_same_plugin_version_changes_nothing(plugin_entity):
    customise(plugin_entity, relabel_and_add_vip)
    plan = plugin_entity.plan([CONTACT_V1], source=PLUGIN)
    assert plan.is_empty
    assert plugin_entity.apply(plan) == 2
    assert labels(plugin_entity)["name"] == "Full name"


def test_an_invalid_customisation_is_rejected_and_stores_no_layer(plugin_entity):
    def break_it(doc):
        doc["properties"]["id"] = {"type": "string"}

    with pytest.raises(DefinitionInvalid):
        customise(plugin_entity, break_it)
    assert set(stored_layers(plugin_entity)) == {"base"}


# -- the layer functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # the examples of RFC 7396, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target, patch, result):
    assert merge_patch(target, patch) == result


def test_make_merge_patch_is_the_inverse_of_merge_patch():
    source = {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": "x"}
    target = {"a": 1, "b": {"c": 3, "d": [2]}, "f": True}
    patch = make_merge_patch(source, target)
    assert patch == {"b": {"c": 3, "d": [2]}, "e": None, "f": True}
    assert merge_patch(source, patch) == target


def test_merge_patch_does_not_change_its_inputs():
    target = {"a": {"b": 1}}
    merge_patch(target, {"a": {"b": 2}})
    assert target == {"a": {"b": 1}}


def test_an_extension_adds_properties_and_required_fields_and_appends_to_lists():
    base = {
        "x-xrm": {"name": "crm.contact", "searchFields": ["name"]},
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
    }
    ext = {
        "x-xrm": {"name": "ignored.name", "searchFields": ["name", "code"]},
        "required": ["code"],
        "properties": {"code": {"type": "string"}},
    }
    out = apply_extension(base, ext)
    assert out["x-xrm"] == {"name": "crm.contact", "searchFields": ["name", "code"]}
    assert out["required"] == ["name", "code"]
    assert list(out["properties"]) == ["name", "code"]
    assert base["required"] == ["name"]


def test_layers_apply_base_then_extensions_by_name_then_the_customisation():
    assert sorted(["custom", "ext:b", "base", "ext:a"], key=layer_order) == [
        "base",
        "ext:a",
        "ext:b",
        "custom",
    ]


def test_the_customisation_wins_over_an_extension():
    layers = {
        "base": {"x-xrm": {"name": "crm.a"}, "properties": {"n": {"type": "string"}}},
        "ext:x": {"properties": {"m": {"type": "string", "title": "From plugin"}}},
        "custom": {"properties": {"m": {"title": "From admin"}}},
    }
    assert effective_document(layers)["properties"]["m"]["title"] == "From admin"


def test_without_a_base_layer_there_is_no_effective_document():
    assert effective_document({"custom": {"properties": {}}}) is None


def test_a_required_field_removed_by_the_customisation_is_no_longer_required():
    layers = {
        "base": {
            "x-xrm": {"name": "crm.a"},
            "required": ["n", "m"],
            "properties": {"n": {"type": "string"}, "m": {"type": "string"}},
        },
        "custom": {"properties": {"m": None}},
    }
    assert effective_document(layers)["required"] == ["n"]
