"""Supplier, stakeholder and partner behaviour: evaluation scores and ratings, agreement renewal
dates, onboarding; engagement strategy, shareholdings; deal registration with its conflict
check and the customer-company-partner triangle."""

from __future__ import annotations

import pytest
from models_support import admin_token_for, create, install, with_requirements

from xrm.core.context import SYSTEM
from xrm.core.plugins import RecordVetoed


def _fire(p, conn, entity, record, *steps):
    for name, values, *comment in steps:
        record = p.workflows.fire(
            conn, SYSTEM, entity, record["id"], name,
            values=values or None, comment=comment[0] if comment else None,
        )  # fmt: skip
    return record


# --- suppliers --------------------------------------------------------------------------------


@pytest.fixture
def vrm(installed):
    return installed("vrm")


@pytest.mark.parametrize(
    ("marks", "score", "rating"),
    [((5, 5, 4, 4), "4.70", "A"), ((3, 4, 3, 3), "3.30", "B"), ((2, 3, 2, 2), "2.30", "C")],
)
def test_an_evaluation_scores_weighted_criteria_and_rates_the_supplier(vrm, marks, score, rating):
    p = vrm
    with p.engine.begin() as conn:
        supplier = create(p, conn, "vrm.supplier", {"name": "Acme Bolts"})
        quality, delivery, price, service = marks
        evaluation = create(
            p, conn, "vrm.evaluation",
            {"supplier": supplier["id"], "period": "2025-Q1", "quality": quality,
             "delivery": delivery, "price": price, "service": service},
        )  # fmt: skip
        supplier = p.records.get(conn, SYSTEM, "vrm.supplier", supplier["id"])
    assert (evaluation["score"], evaluation["rating"]) == (score, rating)
    assert (supplier["last_score"], supplier["rating"]) == (score, rating)


def test_hook_kept_supplier_and_stakeholder_fields_are_read_only_to_users(make_app):
    names = with_requirements("vrm", "srm")
    app = make_app(allow=names)
    install(app, names)
    auth = {"Authorization": f"Bearer {admin_token_for(app)}"}
    client = app.test_client()

    def call(method, path, body=None):
        return client.open(f"/api/v1{path}", method=method, json=body, headers=auth)

    supplier = call("POST", "/data/vrm.supplier", {"name": "Acme Bolts"}).json
    refused = call(
        "PATCH", f"/data/vrm.supplier/{supplier['id']}", {"last_score": "5.00", "rating": "A"}
    )
    assert refused.status_code == 422, refused.json
    assert {e["field"] for e in refused.json["errors"]} == {"last_score", "rating"}
    assert {e["code"] for e in refused.json["errors"]} == {"read_only"}
    evaluation = call(
        "POST", "/data/vrm.evaluation",
        {"supplier": supplier["id"], "period": "2025-Q1", "quality": 3, "delivery": 4,
         "price": 3, "service": 3},
    )  # fmt: skip
    assert evaluation.status_code == 201, evaluation.json
    supplier = call("GET", f"/data/vrm.supplier/{supplier['id']}").json
    assert (supplier["last_score"], supplier["rating"]) == ("3.30", "B")  # the hook still writes

    holder = call(
        "POST", "/data/srm.stakeholder",
        {"name": "City Council", "stakeholder_type": "authority", "power": 5, "interest": 4},
    ).json  # fmt: skip
    refused = call(
        "PATCH", f"/data/srm.stakeholder/{holder['id']}", {"last_engaged_on": "2025-01-01"}
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "last_engaged_on"
    spec = call("GET", "/openapi.json").json["components"]["schemas"]
    assert spec["srm.stakeholder"]["properties"]["last_engaged_on"]["readOnly"] is True


def test_evaluation_weights_must_add_up_to_100(vrm):
    from xrm.core.records.errors import RecordError

    p = vrm
    with p.engine.begin() as conn:
        supplier = create(p, conn, "vrm.supplier", {"name": "Acme Nuts"})
        with pytest.raises(RecordError) as refused:
            create(
                p, conn, "vrm.evaluation",
                {"supplier": supplier["id"], "period": "2025-Q2", "quality": 3, "delivery": 3,
                 "price": 3, "service": 3, "weight_price": 50},
            )  # fmt: skip
    assert "the four weights must add up to 100%" in str(refused.value.problems)


def test_an_agreement_reminds_before_its_notice_period(vrm):
    p = vrm
    with p.engine.begin() as conn:
        supplier = create(p, conn, "vrm.supplier", {"name": "Acme Paper"})
        agreement = create(
            p, conn, "vrm.agreement",
            {"supplier": supplier["id"], "title": "Framework", "agreement_type": "framework",
             "start_date": "2025-01-01", "end_date": "2026-12-31", "notice_period_days": 90},
        )  # fmt: skip
        agreement = _fire(p, conn, "vrm.agreement", agreement, ("activate", {}))
    # 90 days of notice and 30 days of warning before 31 December
    assert agreement["renewal_reminder_on"] == "2026-09-02"
    assert agreement["end_month"] == "2026-12"
    assert agreement["status"] == "active"


def test_supplier_onboarding_needs_due_diligence_and_a_second_person(vrm):
    from xrm.workflow import TransitionRefused

    p = vrm
    with p.engine.begin() as conn:
        supplier = create(p, conn, "vrm.supplier", {"name": "Acme Glue", "category": "components"})
        supplier = _fire(p, conn, "vrm.supplier", supplier, ("start_review", {}))
        with pytest.raises(TransitionRefused, match="due diligence"):
            _fire(p, conn, "vrm.supplier", supplier, ("approve", {}))
        p.records.update(conn, SYSTEM, "vrm.supplier", supplier["id"], {"due_diligence_done": True})
        supplier = _fire(p, conn, "vrm.supplier", supplier, ("approve", {}))
        assert supplier["status"] == "approved" and supplier["approved_on"]
        supplier = _fire(
            p, conn, "vrm.supplier", supplier,
            ("block", {"blocked_reason": "Fraud"}, "Audit finding."),
        )  # fmt: skip
        with pytest.raises(RecordVetoed, match="blocked"):
            create(
                p, conn, "vrm.agreement",
                {"supplier": supplier["id"], "title": "New", "agreement_type": "purchase",
                 "start_date": "2025-01-01", "end_date": "2025-12-31"},
            )  # fmt: skip


# --- stakeholders -----------------------------------------------------------------------------


@pytest.fixture
def srm(installed):
    return installed("srm")


@pytest.mark.parametrize(
    ("power", "interest", "strategy", "every"),
    [(5, 5, "manage_closely", 30), (4, 1, "keep_satisfied", 60), (1, 4, "keep_informed", 90),
     (2, 2, "monitor", 180)],
)  # fmt: skip
def test_power_and_interest_imply_the_engagement_strategy(srm, power, interest, strategy, every):
    p = srm
    with p.engine.begin() as conn:
        holder = create(
            p, conn, "srm.stakeholder",
            {"name": "Green Valley NGO", "stakeholder_type": "ngo", "power": power,
             "interest": interest},
        )  # fmt: skip
    assert (holder["strategy"], holder["engagement_interval_days"]) == (strategy, every)


def test_engagements_move_the_next_engagement_date(srm):
    p = srm
    with p.engine.begin() as conn:
        holder = create(
            p, conn, "srm.stakeholder",
            {"name": "City Council", "stakeholder_type": "authority", "power": 5, "interest": 4},
        )  # fmt: skip
        create(
            p, conn, "srm.engagement",
            {"stakeholder": holder["id"], "engagement_type": "meeting", "subject": "Permit",
             "engaged_on": "2025-03-01"},
        )  # fmt: skip
        holder = p.records.get(conn, SYSTEM, "srm.stakeholder", holder["id"])
    assert (holder["last_engaged_on"], holder["next_engagement_on"]) == ("2025-03-01", "2025-03-31")


def test_only_shareholders_and_investors_hold_shares(srm):
    p = srm
    with p.engine.begin() as conn:
        media = create(
            p, conn, "srm.stakeholder",
            {"name": "Daily Planet", "stakeholder_type": "media", "power": 3, "interest": 2},
        )  # fmt: skip
        with pytest.raises(RecordVetoed, match="only shareholders and investors"):
            create(
                p, conn, "srm.shareholding",
                {"stakeholder": media["id"], "share_class": "ordinary", "shares": 10},
            )  # fmt: skip
        fund = create(
            p, conn, "srm.stakeholder",
            {"name": "Gotham Capital", "stakeholder_type": "investor", "power": 4, "interest": 4},
        )  # fmt: skip
        holding = create(
            p, conn, "srm.shareholding",
            {"stakeholder": fund["id"], "share_class": "ordinary", "shares": 250_000},
        )  # fmt: skip
    assert holding["percentage"] == "2.5000"


def test_a_concern_is_resolved_with_an_answer(srm):
    p = srm
    with p.engine.begin() as conn:
        holder = create(
            p, conn, "srm.stakeholder",
            {"name": "Residents", "stakeholder_type": "community", "power": 2, "interest": 5},
        )  # fmt: skip
        concern = create(
            p, conn, "srm.concern",
            {"stakeholder": holder["id"], "title": "Noise", "topic": "community_impact"},
        )  # fmt: skip
        concern = _fire(
            p, conn, "srm.concern", concern,
            ("acknowledge", {}), ("start", {}), ("resolve", {"resolution": "Night shift moved."}),
        )  # fmt: skip
    assert concern["status"] == "resolved" and concern["resolved_on"] and concern["response_due"]


# --- partners ---------------------------------------------------------------------------------


@pytest.fixture
def brm(installed):
    return installed("brm")


def _partner(p, conn, name):
    return create(
        p, conn, "brm.partner", {"name": name, "partner_type": "reseller", "tier": "gold"}
    )


def _registration(p, conn, partner, customer, title="Licences"):
    return create(
        p, conn, "brm.deal_registration",
        {"partner": partner["id"], "end_customer": customer["id"], "title": title,
         "estimated_value": 50000},
    )  # fmt: skip


def test_approving_a_registration_creates_the_partner_opportunity_and_the_triangle(brm):
    p = brm
    with p.engine.begin() as conn:
        partner = _partner(p, conn, "Channel One")
        customer = create(p, conn, "crm.account", {"name": "End Customer AG"})
        reg = _fire(
            p, conn, "brm.deal_registration", _registration(p, conn, partner, customer),
            ("approve", {}),
        )  # fmt: skip
        (opportunity,) = p.records.query(
            conn, SYSTEM, "crm.opportunity", {"deal_registration": f"eq.{reg['id']}"}
        )
        relations = p.records.query(
            conn, SYSTEM, "party.relationship",
            {"source": f"eq.party.organization:{partner['organization']}"},
        )  # fmt: skip
    assert reg["status"] == "approved" and reg["expires_on"]
    assert (opportunity["account"], opportunity["partner"]) == (customer["id"], partner["id"])
    assert [(r["relationship_type"], r["target"]["id"]) for r in relations] == [
        ("reseller_for", customer["organization"])
    ]


def test_the_conflict_check_vetoes_a_second_partners_registration(brm):
    p = brm
    with p.engine.begin() as conn:
        first, second = _partner(p, conn, "Channel One"), _partner(p, conn, "Channel Two")
        customer = create(p, conn, "crm.account", {"name": "Contested GmbH"})
        _fire(
            p, conn, "brm.deal_registration", _registration(p, conn, first, customer),
            ("approve", {}),
        )  # fmt: skip
        duplicate = _registration(p, conn, second, customer, "Same deal")
        with pytest.raises(RecordVetoed, match="conflict: Contested GmbH already has 1 open"):
            _fire(p, conn, "brm.deal_registration", duplicate, ("approve", {}))
        duplicate = p.records.get(conn, SYSTEM, "brm.deal_registration", duplicate["id"])
    assert duplicate["status"] == "submitted"


def test_the_conflict_check_vetoes_while_the_customer_has_open_direct_business(brm):
    p = brm
    with p.engine.begin() as conn:
        partner = _partner(p, conn, "Channel Three")
        customer = create(p, conn, "crm.account", {"name": "Direct Ltd"})
        opp = create(p, conn, "crm.opportunity", {"name": "Direct deal", "account": customer["id"]})
        reg = _registration(p, conn, partner, customer)
        with pytest.raises(RecordVetoed) as veto:
            _fire(p, conn, "brm.deal_registration", reg, ("approve", {}))
        assert opp["number"] in str(veto.value)
        _fire(p, conn, "crm.opportunity", opp, ("lose", {"lost_reason": "timing"}, "Parked."))
        reg = _fire(p, conn, "brm.deal_registration", reg, ("approve", {}))
    assert reg["status"] == "approved"


def test_the_triangle_is_visible_from_each_side(brm):
    from xrm.web.ui.model import related_lists

    p = brm
    with p.engine.begin() as conn:
        partner = _partner(p, conn, "Channel Four")
        customer = create(
            p, conn, "crm.account", {"name": "Triangle SA", "preferred_partner": partner["id"]}
        )
        reg = _fire(
            p, conn, "brm.deal_registration", _registration(p, conn, partner, customer),
            ("approve", {}),
        )  # fmt: skip
        from_customer = p.records.query(
            conn, SYSTEM, "brm.deal_registration", {"end_customer": f"eq.{customer['id']}"}
        )
        from_partner = p.records.query(
            conn, SYSTEM, "crm.opportunity",
            {"partner": f"eq.{partner['id']}", "select": "id,account,partner"},
        )  # fmt: skip
        partner_customers = p.records.query(
            conn, SYSTEM, "crm.account", {"preferred_partner": f"eq.{partner['id']}"}
        )
        access = p.records.access(conn, SYSTEM)
        related = {
            side: {
                (r["entity"], r["field"])
                for r in related_lists(p.registry.snapshot(conn), access, side)
            }
            for side in ("crm.account", "brm.partner")
        }
    assert [r["id"] for r in from_customer] == [reg["id"]]
    assert [o["account"] for o in from_partner] == [customer["id"]]
    assert [a["id"] for a in partner_customers] == [customer["id"]]
    # and the record pages list them: the customer's registrations and opportunities, the
    # partner's registrations, opportunities and customers
    assert {
        ("brm.deal_registration", "end_customer"), ("crm.opportunity", "account"),
    } <= related["crm.account"]  # fmt: skip
    assert {
        ("brm.deal_registration", "partner"), ("crm.opportunity", "partner"),
        ("crm.account", "preferred_partner"),
    } <= related["brm.partner"]  # fmt: skip


def test_the_sales_roles_read_the_partner_side_of_the_triangle(brm):
    """The partner plugin extends the CRM's sales roles (on its first install, on its own
    entities only): a sales rep reads partners and registrations, and may not change them."""
    import random

    from xrm.core.context import Actor
    from xrm.core.plugins import DemoContext
    from xrm.core.security.access import AccessDenied

    p = brm
    with p.engine.begin() as conn:
        partner = _partner(p, conn, "Channel Five")
        customer = create(p, conn, "crm.account", {"name": "Seen SA"})
        reg = _registration(p, conn, partner, customer)
        ctx = DemoContext(None, p, conn, p.records, SYSTEM, random.Random(0))
        rep = Actor(
            ctx.ensure_user("rep", "Rita", "Rep", roles=["Sales Rep"]), "rep", ("Sales Rep",)
        )
        partners = p.records.query(conn, rep, "brm.partner", {"select": "id"})
        registrations = p.records.query(conn, rep, "brm.deal_registration", {"select": "id"})
        with pytest.raises(AccessDenied):
            p.records.update(conn, rep, "brm.partner", partner["id"], {"name": "Renamed"})
    assert [r["id"] for r in partners] == [partner["id"]]
    assert [r["id"] for r in registrations] == [reg["id"]]


def test_only_active_partners_register_deals(brm):
    p = brm
    with p.engine.begin() as conn:
        partner = create(
            p, conn, "brm.partner",
            {"name": "Sleepy", "partner_type": "reseller", "tier": "silver", "status": "suspended"},
        )  # fmt: skip
        customer = create(p, conn, "crm.account", {"name": "Someone"})
        with pytest.raises(RecordVetoed, match="suspended"):
            _registration(p, conn, partner, customer)


def _approved(p, conn, partner_name, customer_name):
    """An approved registration, its partner, customer and the opportunity it created."""
    partner = _partner(p, conn, partner_name)
    customer = create(p, conn, "crm.account", {"name": customer_name})
    reg = _fire(
        p, conn, "brm.deal_registration", _registration(p, conn, partner, customer),
        ("approve", {}),
    )  # fmt: skip
    (opp,) = p.records.query(
        conn, SYSTEM, "crm.opportunity", {"deal_registration": f"eq.{reg['id']}"}
    )
    return partner, customer, reg, opp


def _transition_notes(p, conn, entity, record_id):
    return [
        e["transition"]
        for e in p.records.history(conn, SYSTEM, entity, record_id)
        if "transition" in e
    ]


def test_a_won_or_lost_partner_opportunity_closes_its_approved_registration(brm):
    """Won / lost follow the opportunity (an expired registration stays expired), and the
    closed deal frees the customer for the next partner's registration."""
    p = brm
    with p.engine.begin() as conn:
        *_, won, won_opp = _approved(p, conn, "Channel Five", "Winner GmbH")
        *_, lost, lost_opp = _approved(p, conn, "Channel Six", "Loser AG")
        *_, expired, late_opp = _approved(p, conn, "Channel Seven", "Late KG")
        _fire(p, conn, "brm.deal_registration", expired, ("expire", {}))
        _fire(p, conn, "crm.opportunity", won_opp, ("qualify", {}), ("propose", {}), ("win", {}))
        for opp in (lost_opp, late_opp):
            _fire(p, conn, "crm.opportunity", opp, ("lose", {"lost_reason": "price"}, "Too dear."))
        status = {
            r["id"]: r["status"]
            for r in p.records.query(conn, SYSTEM, "brm.deal_registration", {"order": "id"})
        }
        won_note = _transition_notes(p, conn, "brm.deal_registration", won["id"])[0]
        lost_note = _transition_notes(p, conn, "brm.deal_registration", lost["id"])[0]
        # the closed deal no longer protects the customer: the next registration may pass
        follow_up = _fire(
            p, conn, "brm.deal_registration",
            _registration(p, conn, _partner(p, conn, "Channel Eight"),
                          {"id": won["end_customer"]}, "Follow-up deal"),
            ("approve", {}),
        )  # fmt: skip
    assert status == {won["id"]: "won", lost["id"]: "lost", expired["id"]: "expired"}
    assert follow_up["status"] == "approved"
    assert (won_note["name"], won_note.get("comment")) == (
        "win", f"Opportunity {won_opp['number']} won"
    )  # fmt: skip
    assert (lost_note["name"], lost_note.get("comment")) == (
        "lose", f"Opportunity {lost_opp['number']} lost (price)"
    )  # fmt: skip
