"""Partner demo data: 30 partners (a third of them also customers), their agreements, about 90
deal registrations for CRM accounts and four quarters of performance. Registrations are approved
by firing the workflow when the platform runs workflows; one whose customer already has open
business is rejected for the conflict instead, which is what a partner manager would do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xrm_party.demo import advance, all_records, create, day, demo_users, today, weighted

from xrm.core.plugins import RecordVetoed

TEAM = (
    ("sara.yilmaz", "Sara", "Yilmaz", "Partner Manager"),
    ("theo.nielsen", "Theo", "Nielsen", "Partner Manager"),
)
PARTNERS = 30
REGISTRATIONS = 90
TERRITORIES = ("DACH", "Benelux", "Nordics", "France", "Italy", "Iberia", "UK & Ireland", "CEE")
TIERS = {"registered": 0.0, "silver": 10.0, "gold": 18.0, "platinum": 25.0}


def load(context: Any) -> None:
    rng = context.random
    users = demo_users(context, TEAM)
    managers = list(users.values())
    accounts = all_records(context, "crm.account")
    account_orgs = {a["organization"] for a in accounts}
    companies = all_records(context, "party.organization", {"kind": "eq.company"})
    customers = [o for o in companies if o["id"] in account_orgs]
    others = [o for o in companies if o["id"] not in account_orgs]
    chosen = rng.sample(customers, PARTNERS // 3) + rng.sample(others, PARTNERS - PARTNERS // 3)

    partners = []
    for org in chosen:
        tier = weighted(rng, (("registered", 3), ("silver", 4), ("gold", 2), ("platinum", 1)))
        status = weighted(rng, (("active", 26), ("prospect", 2), ("suspended", 2)))
        partner = create(
            context,
            "brm.partner",
            {
                "organization": org["id"],
                "partner_type": weighted(
                    rng, (("reseller", 5), ("distributor", 2), ("service_partner", 3))
                ),
                "tier": tier,
                "status": status,
                "territory": rng.choice(TERRITORIES),
                "joined_on": day(context, -rng.randint(60, 2500)),
                "discount_rate": TIERS[tier],
                "certified_staff": rng.randint(0, 4) * (1 + list(TIERS).index(tier)),
                "annual_target": rng.choice((250, 500, 1000, 2000)) * 1000,
                "owner_id": rng.choice(managers),
            },
        )
        partners.append(partner)
        _agreement(context, partner)
    active = [p for p in partners if p["status"] == "active"]

    for account in rng.sample(accounts, 40):
        context.records.update(
            context.conn,
            context.actor,
            "crm.account",
            account["id"],
            {"preferred_partner": rng.choice(active)["id"]},
        )

    for i in range(REGISTRATIONS):
        partner = rng.choice(active)
        customer = rng.choice(accounts)
        value = round(rng.lognormvariate(10.5, 0.8), -2) + 2000
        registration = create(
            context,
            "brm.deal_registration",
            {
                "partner": partner["id"],
                "end_customer": customer["id"],
                "title": f"{customer['name']} - {rng.choice(('Licences', 'Rollout', 'Upgrade', 'Services'))}",
                "product_interest": rng.choice(("Platform", "Analytics add-on", "Support")),
                "estimated_value": value,
                "expected_close": day(context, rng.randint(20, 160)),
                "submitted_on": day(context, -rng.randint(0, 90)),
                "owner_id": partner["owner_id"],
            },
        )
        target = weighted(rng, (("submitted", 20), ("approved", 30), ("rejected", 10),
                                ("won", 20), ("lost", 10)))  # fmt: skip
        _decide(context, registration, target, i)

    _performance(context, active)


def _agreement(context: Any, partner: dict) -> None:
    rng = context.random
    start = -rng.randint(30, 1400)
    end = start + rng.choice((365, 730, 1095))
    agreement = create(
        context,
        "brm.partner_agreement",
        {
            "partner": partner["id"],
            "title": f"{partner['partner_type'].replace('_', ' ').capitalize()} agreement",
            "agreement_type": {"reseller": "reseller", "distributor": "distribution"}.get(
                partner["partner_type"], "service"
            ),
            "start_date": day(context, start),
            "end_date": day(context, end),
            "territory": partner["territory"],
            "exclusive": rng.random() < 0.15,
            "commission_rate": rng.choice((5, 8, 10, 12, 15)),
            "owner_id": partner["owner_id"],
        },
    )
    steps: list[tuple] = [("activate", {})]
    if partner["status"] != "prospect":
        if end < 0:
            steps.append(("expire", {}))
        advance(context, "brm.partner_agreement", agreement, steps)


def _decide(context: Any, registration: dict, target: str, index: int) -> None:
    if target == "submitted":
        return
    if target == "rejected":
        advance(
            context,
            "brm.deal_registration",
            registration,
            [("reject", {"rejection_reason": "not_qualified"}, "Customer not qualified.")],
        )
        return
    try:
        registration = advance(context, "brm.deal_registration", registration, [("approve", {})])
    except RecordVetoed as veto:
        advance(
            context,
            "brm.deal_registration",
            registration,
            [("reject", {"rejection_reason": "conflict"}, str(veto))],
        )
        return
    if target not in ("won", "lost"):
        return
    # the partner opportunity is closed; the registration follows it (the plugin's hook)
    for opportunity in all_records(
        context, "crm.opportunity", {"deal_registration": f"eq.{registration['id']}"}
    ):
        steps = [("qualify", {}), ("propose", {})]
        steps += (
            [("win", {})]
            if target == "won"
            else [("lose", {"lost_reason": "price"}, "Lost on price.")]
        )
        advance(context, "crm.opportunity", opportunity, steps)


def _performance(context: Any, partners: list) -> None:
    rng = context.random
    now = today(context)
    for partner in partners:
        quarterly_target = float(partner["annual_target"]) / 4
        strength = rng.uniform(0.4, 1.4)
        for back in range(4, 0, -1):
            quarter_end = now - dt.timedelta(days=91 * back)
            registered = rng.randint(1, 9)
            create(
                context,
                "brm.partner_performance",
                {
                    "partner": partner["id"],
                    "period": f"{quarter_end.year}-Q{(quarter_end.month - 1) // 3 + 1}",
                    "revenue": round(quarterly_target * strength * rng.uniform(0.7, 1.3), -2),
                    "target": quarterly_target,
                    "deals_registered": registered,
                    "deals_won": rng.randint(0, registered),
                    "certified_staff": partner["certified_staff"],
                    "satisfaction": round(min(5.0, max(1.0, rng.gauss(3.2 + strength, 0.5))), 1),
                    "owner_id": partner["owner_id"],
                },
            )
