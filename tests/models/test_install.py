"""Every domain plugin installs on an empty database (with the plugins it requires), owns its
entities, and its entities are served by the generic API at once."""

from __future__ import annotations

import pytest
from models_support import MODELS, admin_token_for, entities_of, install, with_requirements

EXPECTED = {
    "party": {"party.organization", "party.person", "party.relationship"},
    "crm": {
        "crm.account", "crm.contact", "crm.lead", "crm.opportunity", "crm.activity",
        "crm.campaign", "crm.campaign_member", "crm.case",
    },
    "vrm": {"vrm.supplier", "vrm.supplier_contact", "vrm.agreement", "vrm.evaluation",
            "vrm.incident"},
    "srm": {"srm.stakeholder", "srm.engagement", "srm.concern", "srm.shareholding"},
    "brm": {"brm.partner", "brm.partner_agreement", "brm.deal_registration",
            "brm.partner_performance"},
}  # fmt: skip


def test_every_model_is_a_plugin_under_the_entry_point_group():
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="xrm.plugins")}
    assert set(MODELS) <= names


@pytest.mark.parametrize("plugin", MODELS)
def test_plugin_installs_on_an_empty_database_and_owns_its_entities(make_app, plugin):
    names = with_requirements(plugin)
    p = install(make_app(allow=names), names)
    snap = p.registry.snapshot()
    assert set(entities_of(p, plugin)) == EXPECTED[plugin]
    for entity in EXPECTED[plugin]:
        assert snap.entity(entity).definition.layer == f"plugin:{plugin}"


@pytest.mark.parametrize("plugin", MODELS)
def test_plugin_declares_what_it_requires(make_app, plugin):
    names = with_requirements(plugin)
    p = install(make_app(allow=names), names)
    info = p.plugins.get_plugin(plugin).xrm_plugin_info()
    assert info["name"] == plugin
    assert tuple(info.get("requires", ())) == tuple(n for n in names if n != plugin)


def test_all_models_together_are_served_by_the_api(make_app):
    app = make_app(allow=MODELS)
    install(app, MODELS)
    token = admin_token_for(app)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for entity in sorted(set().union(*EXPECTED.values())):
        meta = client.get(f"/api/v1/meta/entities/{entity}", headers=auth)
        assert meta.status_code == 200, (entity, meta.json)
        listing = client.get(f"/api/v1/data/{entity}", headers=auth)
        assert listing.status_code == 200, (entity, listing.json)
        assert listing.json["items"] == []
    created = client.post("/api/v1/data/crm.account", json={"name": "Acme Robotics"}, headers=auth)
    assert created.status_code == 201, created.json
    org = client.get(
        f"/api/v1/data/party.organization/{created.json['organization']}", headers=auth
    )
    assert org.json["name"] == "Acme Robotics"


def test_brm_extends_crm_opportunities_and_accounts_with_partner_references(make_app):
    names = with_requirements("brm")
    p = install(make_app(allow=names), names)
    snap = p.registry.snapshot()
    assert {"partner", "deal_registration"} <= set(snap.entity("crm.opportunity").fields)
    assert "preferred_partner" in snap.entity("crm.account").fields
