"""The CRM plugin is discovered through the xrm.plugins entry point and installs its entities
(on top of the party plugin it requires: accounts and contacts stand for organisations and
people)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

PLUGINS = ("party", "crm")


def _install(make_app):
    from xrm.core.context import SYSTEM
    from xrm.core.plugins.lifecycle import PluginLifecycle

    app = make_app(allow=PLUGINS)
    p = app.extensions["xrm"]
    for name in PLUGINS:  # installed and enabled: the party link hooks take part
        PluginLifecycle(p).install(name, actor=SYSTEM)
    return p


def test_crm_plugin_is_registered_under_the_entry_point_group():
    names = {ep.name for ep in entry_points(group="xrm.plugins")}
    assert {"party", "crm"} <= names


def test_crm_requires_the_party_plugin(make_app):
    p = _install(make_app)
    assert p.plugins.get_plugin("crm").xrm_plugin_info()["requires"] == ["party"]


def test_crm_definitions_install_and_a_contact_can_be_created(make_app):
    from xrm.core.context import SYSTEM

    p = _install(make_app)
    with p.engine.begin() as conn:
        acc = p.records.create(
            conn, SYSTEM, "crm.account", {"name": "Acme", "annual_revenue": 125000}
        )
        con = p.records.create(
            conn, SYSTEM, "crm.contact", {"last_name": "Doe", "account": acc["id"]}
        )
        org = p.records.get(conn, SYSTEM, "party.organization", acc["organization"])
        person = p.records.get(conn, SYSTEM, "party.person", con["person"])
    assert acc["account_number"] == "ACC-00001"
    assert acc["annual_revenue"] == {"amount": "125000.00", "currency": "EUR"}
    assert con["do_not_email"] is False
    assert org["name"] == "Acme"
    assert (person["last_name"], person["organization"]) == ("Doe", org["id"])


@pytest.mark.parametrize(
    "entity",
    [
        "crm.account",
        "crm.contact",
        "crm.lead",
        "crm.opportunity",
        "crm.activity",
        "crm.campaign",
        "crm.campaign_member",
        "crm.case",
    ],
)
def test_crm_definitions_are_plugin_owned(make_app, entity):
    p = _install(make_app)
    assert p.registry.snapshot().entity(entity).definition.layer == "plugin:crm"
