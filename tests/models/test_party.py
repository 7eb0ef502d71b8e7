"""The shared party model: one organisation plays every role at once, role records stay in
step with their party, and any two records can be related."""

from __future__ import annotations

import pytest
from models_support import MODELS, create

from xrm.core.context import SYSTEM
from xrm.core.plugins import RecordVetoed
from xrm.core.records.errors import RecordConflict, RecordError


@pytest.fixture
def everything(installed):
    return installed(*MODELS)


@pytest.fixture
def customers_and_suppliers(installed):
    return installed("crm", "vrm")


def test_one_organisation_is_customer_supplier_stakeholder_and_partner(everything):
    p = everything
    with p.engine.begin() as conn:
        org = create(p, conn, "party.organization", {"name": "Globex", "vat_id": "DE123456789"})
        account = create(p, conn, "crm.account", {"organization": org["id"]})
        supplier = create(p, conn, "vrm.supplier", {"organization": org["id"]})
        stakeholder = create(
            p, conn, "srm.stakeholder",
            {"organization": org["id"], "stakeholder_type": "shareholder", "power": 4,
             "interest": 2},
        )  # fmt: skip
        partner = create(
            p, conn, "brm.partner",
            {"organization": org["id"], "partner_type": "reseller", "tier": "gold"},
        )  # fmt: skip
        orgs = p.records.query(conn, SYSTEM, "party.organization", {"name": "eq.Globex"})
    assert len(orgs) == 1
    for role in (account, supplier, stakeholder, partner):
        assert role["organization"] == org["id"]
        assert role["name"] == "Globex"


def test_a_role_record_without_party_creates_it_from_its_name(customers_and_suppliers):
    p = customers_and_suppliers
    with p.engine.begin() as conn:
        supplier = create(p, conn, "vrm.supplier", {"name": "Initech"})
        org = p.records.get(conn, SYSTEM, "party.organization", supplier["organization"])
    assert org["name"] == "Initech"


def test_a_role_record_needs_a_party_or_a_name(customers_and_suppliers):
    p = customers_and_suppliers
    with p.engine.begin() as conn, pytest.raises(RecordVetoed, match="organization"):
        create(p, conn, "crm.account", {})


def test_an_organisation_plays_each_role_only_once(customers_and_suppliers):
    p = customers_and_suppliers
    with p.engine.begin() as conn:
        org = create(p, conn, "party.organization", {"name": "Umbrella"})
        create(p, conn, "crm.account", {"organization": org["id"]})
        with pytest.raises(RecordError) as refused:
            create(p, conn, "crm.account", {"organization": org["id"]})
    assert isinstance(refused.value, RecordConflict) or refused.value.status in (409, 422)


def test_renaming_the_organisation_renames_every_role(everything):
    p = everything
    with p.engine.begin() as conn:
        account = create(p, conn, "crm.account", {"name": "Hooli"})
        org_id = account["organization"]
        supplier = create(p, conn, "vrm.supplier", {"organization": org_id})
        partner = create(
            p, conn, "brm.partner",
            {"organization": org_id, "partner_type": "distributor", "tier": "silver"},
        )  # fmt: skip
        p.records.update(conn, SYSTEM, "party.organization", org_id, {"name": "Hooli XYZ"})
        names = {
            p.records.get(conn, SYSTEM, e, i)["name"]
            for e, i in (("crm.account", account["id"]), ("vrm.supplier", supplier["id"]),
                         ("brm.partner", partner["id"]))
        }  # fmt: skip
    assert names == {"Hooli XYZ"}


def test_renaming_an_account_renames_its_organisation_and_the_other_roles(customers_and_suppliers):
    p = customers_and_suppliers
    with p.engine.begin() as conn:
        account = create(p, conn, "crm.account", {"name": "Soylent"})
        supplier = create(p, conn, "vrm.supplier", {"organization": account["organization"]})
        p.records.update(conn, SYSTEM, "crm.account", account["id"], {"name": "Soylent Corp"})
        org = p.records.get(conn, SYSTEM, "party.organization", account["organization"])
        supplier = p.records.get(conn, SYSTEM, "vrm.supplier", supplier["id"])
    assert org["name"] == supplier["name"] == "Soylent Corp"


def test_a_contact_is_a_person_and_a_person_may_be_a_supplier_contact_elsewhere(
    customers_and_suppliers,
):
    p = customers_and_suppliers
    with p.engine.begin() as conn:
        account = create(p, conn, "crm.account", {"name": "Stark Industries"})
        contact = create(
            p, conn, "crm.contact",
            {"first_name": "Pepper", "last_name": "Potts", "email": "pepper@stark.example",
             "account": account["id"]},
        )  # fmt: skip
        person = p.records.get(conn, SYSTEM, "party.person", contact["person"])
        p.records.update(conn, SYSTEM, "party.person", person["id"], {"last_name": "Stark"})
        contact = p.records.get(conn, SYSTEM, "crm.contact", contact["id"])
    assert person["email"] == "pepper@stark.example"
    assert person["organization"] == account["organization"]
    assert contact["last_name"] == "Stark"


def test_a_stakeholder_can_be_a_person(everything):
    p = everything
    with p.engine.begin() as conn:
        person = create(p, conn, "party.person", {"first_name": "Ada", "last_name": "Byron"})
        holder = create(
            p, conn, "srm.stakeholder",
            {"person": person["id"], "stakeholder_type": "shareholder", "power": 2,
             "interest": 5},
        )  # fmt: skip
    assert holder["name"] == "Ada Byron"
    assert holder["organization"] is None


def test_any_two_records_can_be_related_with_a_type(customers_and_suppliers):
    p = customers_and_suppliers
    with p.engine.begin() as conn:
        account = create(p, conn, "crm.account", {"name": "Wayne Enterprises"})
        person = create(p, conn, "party.person", {"first_name": "Lucius", "last_name": "Fox"})
        rel = create(
            p, conn, "party.relationship",
            {"source": {"entity": "party.person", "id": person["id"]},
             "relationship_type": "board_member_of",
             "target": {"entity": "crm.account", "id": account["id"]}},
        )  # fmt: skip
        found = p.records.query(
            conn, SYSTEM, "party.relationship",
            {"target": f"eq.crm.account:{account['id']}"},
        )  # fmt: skip
    assert [r["id"] for r in found] == [rel["id"]]
    assert found[0]["source"] == {"entity": "party.person", "id": person["id"]}
