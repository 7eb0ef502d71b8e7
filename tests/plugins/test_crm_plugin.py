"""The CRM plugin is discovered through the xrm.plugins entry point and installs its entities."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from xrm.core.plugins import plugin_layer_changes


def test_crm_plugin_is_registered_under_the_entry_point_group():
    names = {ep.name for ep in entry_points(group="xrm.plugins")}
    assert "crm" in names


def test_crm_definitions_install_and_a_contact_can_be_created(make_app):
    from xrm.core.context import SYSTEM

    app = make_app(allow=("crm",))
    p = app.extensions["xrm"]
    p.registry.apply(p.registry.plan(changes=plugin_layer_changes(p.plugins)))
    with p.engine.begin() as conn:
        acc = p.records.create(
            conn, SYSTEM, "crm.account", {"name": "Acme", "annual_revenue": 125000}
        )
        con = p.records.create(
            conn, SYSTEM, "crm.contact", {"last_name": "Doe", "account": acc["id"]}
        )
    assert acc["account_number"] == "ACC-00001"
    assert acc["annual_revenue"] == {"amount": "125000.00", "currency": "EUR"}
    assert con["do_not_email"] is False


@pytest.mark.parametrize("entity", ["crm.account", "crm.contact"])
def test_crm_definitions_are_plugin_owned(make_app, entity):
    app = make_app(allow=("crm",))
    p = app.extensions["xrm"]
    p.registry.apply(p.registry.plan(changes=plugin_layer_changes(p.plugins)))
    assert p.registry.snapshot().entity(entity).definition.layer == "plugin:crm"
