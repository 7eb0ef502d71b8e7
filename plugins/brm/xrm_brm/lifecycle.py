"""Record-lifecycle behaviour of the partner entities (called from the plugin's hooks).

- partners stand for a shared ``party.organization`` (``xrm_party.PartyLink``);
- **conflict check**: approving a deal registration is vetoed while the end customer has an
  open opportunity that is not this registration's, or another partner holds an approved
  registration for the same customer. It reads through the record service as the platform,
  because a partner manager must not approve a conflict they cannot see;
- an approved registration records the triangle in the party model: a ``party.relationship``
  "<partner> resells for <customer>" (once per pair).
"""

from __future__ import annotations

from xrm_party import PartyLink

from xrm.core.plugins import SYSTEM, RecordEvent, RecordVetoed

LINKS = (
    PartyLink("brm.partner", "organization", "party.organization", {"name": "name"}, ("name",)),
)
OPEN_STAGES = "prospecting,qualification,proposal,negotiation"
RELATIONSHIP = {
    "reseller": "reseller_for",
    "distributor": "distributor_for",
    "service_partner": "service_partner_for",
}


def _registration(event: RecordEvent) -> dict:
    return {**(event.before or {}), **(event.values or {})}


def conflict_check(event: RecordEvent) -> None:
    """Veto approving a registration that conflicts with existing business."""
    if event.entity != "brm.deal_registration" or getattr(event, "transition", None) != "approve":
        return
    reg = _registration(event)
    customer_id = reg["end_customer"]
    records, conn = event.records, event.conn
    customer = records.get(conn, SYSTEM, "crm.account", customer_id)
    opportunities = [
        o
        for o in records.query(
            conn,
            SYSTEM,
            "crm.opportunity",
            {"account": f"eq.{customer_id}", "stage": f"in.({OPEN_STAGES})", "order": "id"},
        )
        if o.get("deal_registration") != event.record_id
    ]
    if opportunities:
        listed = ", ".join(f"{o['number']} ({o['stage']})" for o in opportunities[:5])
        more = f" and {len(opportunities) - 5} more" if len(opportunities) > 5 else ""
        raise RecordVetoed(
            f"conflict: {customer['name']} already has {len(opportunities)} open "
            f"opportunit{'y' if len(opportunities) == 1 else 'ies'}: {listed}{more}. "
            "Reject the registration (reason: conflict) or close those first.",
            field="end_customer",
        )
    others = records.query(
        conn,
        SYSTEM,
        "brm.deal_registration",
        {
            "end_customer": f"eq.{customer_id}",
            "status": "eq.approved",
            "id": f"neq.{event.record_id}",
            "order": "id",
        },
    )
    if others:
        other = others[0]
        partner = records.get(conn, SYSTEM, "brm.partner", other["partner"])
        raise RecordVetoed(
            f"conflict: {customer['name']} is protected by {partner['name']}'s approved "
            f"registration {other['number']} until {other['expires_on']}",
            field="end_customer",
        )


def record_triangle(event: RecordEvent) -> None:
    """After approval: '<partner organisation> resells for <customer organisation>'."""
    if event.entity != "brm.deal_registration" or getattr(event, "transition", None) != "approve":
        return
    reg = event.after or _registration(event)
    records, conn = event.records, event.conn
    partner = records.get(conn, SYSTEM, "brm.partner", reg["partner"])
    customer = records.get(conn, SYSTEM, "crm.account", reg["end_customer"])
    kind = RELATIONSHIP[partner["partner_type"]]
    source = f"party.organization:{partner['organization']}"
    target = f"party.organization:{customer['organization']}"
    existing = records.query(
        conn,
        SYSTEM,
        "party.relationship",
        {"source": f"eq.{source}", "target": f"eq.{target}", "relationship_type": f"eq.{kind}"},
    )
    if not existing:
        records.create(
            conn,
            SYSTEM,
            "party.relationship",
            {
                "source": {"entity": "party.organization", "id": partner["organization"]},
                "relationship_type": kind,
                "target": {"entity": "party.organization", "id": customer["organization"]},
                "valid_from": reg.get("approved_on"),
                "notes": f"Deal registration {reg.get('number')}",
            },
        )


def before_create(event: RecordEvent) -> None:
    if event.entity == "brm.deal_registration" and event.values.get("partner") is not None:
        partner = event.records.get(event.conn, SYSTEM, "brm.partner", event.values["partner"])
        if partner["status"] != "active":
            raise RecordVetoed(
                f"partner {partner['name']} is {partner['status']}: only active partners "
                "register deals",
                field="partner",
            )


#: opportunity transition -> the registration's transition that follows it
CLOSING = {"win": "win", "lose": "lose"}


def close_registration(event: RecordEvent) -> None:
    """A partner opportunity won or lost closes its approved deal registration the same way
    (as the platform: the sales rep closing the deal need not be a partner manager)."""
    if event.entity != "crm.opportunity" or event.transition not in CLOSING:
        return
    opportunity = event.after or {}
    reg_id = opportunity.get("deal_registration")
    if reg_id is None:
        return
    reg = event.records.get(event.conn, SYSTEM, "brm.deal_registration", reg_id)
    if reg["status"] != "approved":
        return  # decided already, expired, or never approved: nothing to follow
    outcome = "won" if event.transition == "win" else "lost"
    reason = opportunity.get("lost_reason")
    event.fire(
        "brm.deal_registration",
        reg_id,
        CLOSING[event.transition],
        actor=SYSTEM,
        comment=f"Opportunity {opportunity.get('number')} {outcome}"
        + (f" ({reason})" if outcome == "lost" and reason else ""),
    )
