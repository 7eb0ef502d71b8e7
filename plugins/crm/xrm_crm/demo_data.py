"""CRM demo data: a sales team with a pipeline worth looking at.

250 accounts on the directory's companies, their people as contacts, 120 leads across the
qualification workflow, 240 opportunities across every stage, 600 activities forming the
contact history, campaigns with members from segments and their responses, 100 service cases.
Records reach later workflow states by firing transitions when the platform runs workflows
(``xrm_party.demo.advance``); without a workflow runtime they stay in the initial state.
"""

from __future__ import annotations

from typing import Any

from xrm_party.demo import (
    NAME_PARTS,
    advance,
    all_records,
    create,
    day,
    demo_users,
    moment,
    slug,
    weighted,
)

from .segments import segment_params

TEAM = (
    ("anna.weber", "Anna", "Weber", "Sales Rep"),
    ("ben.koch", "Ben", "Koch", "Sales Rep"),
    ("carla.rossi", "Carla", "Rossi", "Sales Rep"),
    ("david.novak", "David", "Novak", "Sales Rep"),
    ("elena.silva", "Elena", "Silva", "Sales Rep"),
    ("finn.jansen", "Finn", "Jansen", "Sales Rep"),
    ("greta.braun", "Greta", "Braun", "Sales Manager"),
    ("hugo.lange", "Hugo", "Lange", "Sales Director"),
    ("ines.meyer", "Ines", "Meyer", "Marketing Manager"),
    ("jonas.wolf", "Jonas", "Wolf", "Support Agent"),
    ("klara.neumann", "Klara", "Neumann", "Support Agent"),
    ("lukas.richter", "Lukas", "Richter", "Support Manager"),
)
REPS = [u for u, *_rest, role in TEAM if role == "Sales Rep"]
AGENTS = [u for u, *_rest, role in TEAM if role == "Support Agent"]

ACCOUNTS = 250
LEADS = 120
OPPORTUNITIES = 240
CASES = 100
ACTIVITIES = 600
MEMBERS = 100

PRODUCTS = (
    "ERP rollout", "CRM licences", "Support renewal", "Cloud migration", "Data platform",
    "Training package", "Hardware refresh", "Managed services", "Security audit", "API integration",
)  # fmt: skip
# stage -> (weight, close-date offset range in days)
STAGES = (
    ("prospecting", 50), ("qualification", 50), ("proposal", 45), ("negotiation", 35),
    ("won", 90), ("lost", 50),
)  # fmt: skip
PATHS = {
    "prospecting": [],
    "qualification": [("qualify", {})],
    "proposal": [("qualify", {}), ("propose", {})],
    "negotiation": [("qualify", {}), ("propose", {}), ("negotiate", {})],
    "won": [("qualify", {}), ("propose", {}), ("negotiate", {}), ("win", {})],
}


def load(context: Any) -> None:
    rng = context.random
    users = demo_users(context, TEAM[:8], team="Sales")
    users.update(demo_users(context, TEAM[8:]))
    reps = [users[u] for u in REPS]
    companies = all_records(context, "party.organization", {"kind": "eq.company"})
    people_by_org: dict[int, list[dict]] = {}
    for person in all_records(context, "party.person", {"organization": "not.is.null"}):
        people_by_org.setdefault(person["organization"], []).append(person)

    accounts = []
    for org in rng.sample(companies, ACCOUNTS):
        relationship = weighted(rng, (("customer", 64), ("prospect", 30), ("former", 6)))
        employees = org.get("employees") or 10
        segment = "enterprise" if employees > 1000 else "mid_market" if employees > 150 else "smb"
        values = {
            "organization": org["id"],
            "relationship": relationship,
            "segment": segment,
            "annual_revenue": {
                "amount": str(round(employees * rng.uniform(90_000, 260_000), -3)),
                "currency": "EUR",
            },
            "owner_id": rng.choice(reps),
        }
        if relationship != "prospect":
            values["customer_since"] = day(context, -rng.randint(200, 3650))
        accounts.append(create(context, "crm.account", values))

    contacts_by_account: dict[int, list[dict]] = {}
    for account in accounts:
        for person in people_by_org.get(account["organization"], []):
            contact = create(
                context,
                "crm.contact",
                {
                    "person": person["id"],
                    "account": account["id"],
                    "decision_role": weighted(
                        rng,
                        (
                            ("decision_maker", 25),
                            ("influencer", 35),
                            ("user", 30),
                            ("gatekeeper", 10),
                        ),
                    ),
                    "do_not_email": rng.random() < 0.08,
                    "preferred_channels": sorted(
                        rng.sample(["email", "phone", "meeting", "mail"], 2)
                    ),
                    "owner_id": account["owner_id"],
                },
            )
            contacts_by_account.setdefault(account["id"], []).append(contact)

    campaigns = _campaigns(context, users)
    leads = _leads(context, reps, campaigns, accounts)
    opportunities = _opportunities(context, rng, accounts, contacts_by_account, campaigns)
    cases = _cases(context, [users[u] for u in AGENTS], accounts, contacts_by_account)
    _activities(context, rng, reps, accounts, contacts_by_account, opportunities, leads, cases)


def _campaigns(context: Any, users: dict[str, int]) -> list[dict]:
    rng = context.random
    views = context.contributions("xrm_views")
    specs = (
        ("Spring newsletter", "email", "crm.newsletter_segment", None, -80, -50, "completed"),
        ("Hannover Messe", "trade_show", None, "decision_role=eq.decision_maker", -60, -55, "completed"),
        ("Cloud migration webinar", "webinar", "crm.decision_makers_segment", None, -20, 10, "active"),
        ("Customer summit", "event", None, "decision_role=in.(decision_maker,influencer)", -5, 25, "active"),
        ("Autumn newsletter", "email", "crm.newsletter_segment", None, 30, 60, "planned"),
        ("Security audit mailing", "direct_mail", None, "job_title=ilike.*CTO*", 45, 75, "planned"),
    )  # fmt: skip
    out = []
    for name, kind, view, query, start, end, status in specs:
        campaign = create(
            context,
            "crm.campaign",
            {
                "name": name,
                "campaign_type": kind,
                "segment_view": view,
                "segment_query": query,
                "start_date": day(context, start),
                "end_date": day(context, end),
                "budget": rng.choice((5000, 12000, 25000, 40000)),
                "expected_responses": rng.choice((40, 80, 120)),
                "owner_id": users["ines.meyer"],
            },
        )
        if status != "planned":
            _members(context, campaign, views)
            steps = [("launch", {})] + ([("complete", {})] if status == "completed" else [])
            campaign = advance(context, "crm.campaign", campaign, steps)
        out.append(campaign)
    return out


def _members(context: Any, campaign: dict, views: list) -> None:
    """Members from the campaign's segment (at most 150), already with their responses.
    (Launching a campaign in the product adds the whole segment: ``add_segment_members``.)"""
    rng = context.random
    contacts = all_records(context, "crm.contact", segment_params(campaign, views))
    for contact in rng.sample(contacts, min(len(contacts), MEMBERS)):
        status = weighted(
            rng,
            (("sent", 45), ("opened", 30), ("responded", 15), ("converted", 5), ("opted_out", 5)),
        )
        values: dict[str, Any] = {
            "campaign": campaign["id"],
            "contact": contact["id"],
            "status": status,
        }
        if status in ("responded", "converted"):
            values["response"] = rng.choice(("interested", "registered", "requested_info"))
            values["responded_at"] = moment(context, -rng.uniform(1, 40))
        create(context, "crm.campaign_member", values)


def _leads(context: Any, reps: list[int], campaigns: list[dict], accounts: list[dict]) -> list:
    rng = context.random
    from xrm_party.demo import FIRST_NAMES, LAST_NAMES, NAME_TRADES

    leads = []
    for i in range(LEADS):
        company = (
            f"{rng.choice(NAME_PARTS)}{rng.choice(('', ' ', '-'))}{rng.choice(NAME_TRADES)} {i + 1}"
        )
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        source = weighted(rng, (("web", 35), ("event", 15), ("referral", 15), ("campaign", 20),
                                ("partner", 5), ("cold_call", 10)))  # fmt: skip
        existing = rng.choice(accounts) if rng.random() < 0.1 else None
        lead = create(
            context,
            "crm.lead",
            {
                "company": existing["name"] if existing else company,
                "account": existing["id"] if existing else None,
                "first_name": first,
                "last_name": last,
                "email": f"{slug(first)}.{slug(last)}.{i + 1}@{slug(company)}.example",
                "phone": f"+49 {rng.randint(30, 899)} {rng.randint(100000, 999999)}",
                "job_title": rng.choice(("CEO", "Head of IT", "Purchasing Manager", "CFO")),
                "topic": rng.choice(PRODUCTS),
                "source": source,
                "campaign": rng.choice(campaigns)["id"] if source == "campaign" else None,
                "budget": rng.choice((3000, 8000, 15000, 25000, 40000, 75000, 120000)),
                "score": rng.randint(20, 95),
                "follow_up_on": day(context, rng.randint(-5, 14)),
                "owner_id": rng.choice(reps),
            },
        )
        target = weighted(rng, (("new", 22), ("contacted", 22), ("qualified", 14),
                                ("converted", 25), ("disqualified", 17)))  # fmt: skip
        steps: list[tuple] = []
        if target != "new":
            steps.append(("contact", {"follow_up_on": day(context, rng.randint(1, 10))}))
        if target in ("qualified", "converted"):
            steps.append(("qualify", {"score": max(lead["score"], 50)}))
            if lead["budget"] is None or float(lead["budget"]) < 5000:
                steps = [("contact", steps[0][1])]
                target = "disqualified"
        if target == "converted":
            steps.append(("convert", {}))
        if target == "disqualified":
            steps.append(
                ("disqualify", {"disqualify_reason": rng.choice(("no_budget", "no_need", "competitor"))},
                 "Not a fit for now.")
            )  # fmt: skip
        leads.append(advance(context, "crm.lead", lead, steps))
    return leads


def _opportunities(
    context: Any, rng: Any, accounts: list, contacts_by_account: dict, campaigns: list
) -> list:
    opportunities = []
    for _ in range(OPPORTUNITIES):
        account = rng.choice(accounts)
        stage = weighted(rng, STAGES)
        closed = stage in ("won", "lost")
        amount = round(rng.lognormvariate(10.3, 0.9), -2) + 1000
        contacts = contacts_by_account.get(account["id"]) or [None]
        contact = rng.choice(contacts)
        opportunity = create(
            context,
            "crm.opportunity",
            {
                "name": f"{account['name']} - {rng.choice(PRODUCTS)}",
                "account": account["id"],
                "contact": contact["id"] if contact else None,
                "source": weighted(
                    rng, (("web", 3), ("referral", 2), ("campaign", 2), ("event", 1))
                ),
                "campaign": rng.choice(campaigns)["id"] if rng.random() < 0.15 else None,
                "amount": amount,
                "discount": rng.choice((0, 0, 0, 5, 5, 8, 10)),
                "close_date": day(
                    context, rng.randint(-300, -5) if closed else rng.randint(5, 150)
                ),
                "next_step": None if closed else rng.choice(("Send proposal", "Demo", "Call CFO")),
                "owner_id": account["owner_id"],
            },
        )
        if stage == "lost":
            steps = PATHS[rng.choice(("prospecting", "qualification", "proposal", "negotiation"))]
            reason = weighted(rng, (("price", 30), ("competitor", 30), ("no_decision", 20),
                                    ("features", 10), ("timing", 10)))  # fmt: skip
            steps = [*steps, ("lose", {"lost_reason": reason}, "Customer decided against us.")]
        else:
            steps = PATHS[stage]
        opportunities.append(advance(context, "crm.opportunity", opportunity, steps))
    return opportunities


def _cases(context: Any, agents: list[int], accounts: list, contacts_by_account: dict) -> list:
    rng = context.random
    customers = [a for a in accounts if a["relationship"] == "customer"]
    subjects = (
        "Login fails after update", "Invoice shows wrong VAT", "Export to Excel times out",
        "Request for additional licences", "Integration returns 500", "Slow reports",
        "Password reset e-mail not received", "Feature request: dark mode", "Data import failed",
        "Question about contract renewal",
    )  # fmt: skip
    hours = {"urgent": (1, 8), "high": (4, 24), "normal": (8, 72), "low": (24, 120)}
    cases = []
    for _ in range(CASES):
        account = rng.choice(customers)
        priority = weighted(rng, (("low", 20), ("normal", 50), ("high", 22), ("urgent", 8)))
        opened = -rng.uniform(0, 45)
        first, resolve = hours[priority]
        contact = rng.choice(contacts_by_account.get(account["id"]) or [None])
        case = create(
            context,
            "crm.case",
            {
                "subject": rng.choice(subjects),
                "account": account["id"],
                "contact": contact["id"] if contact else None,
                "origin": rng.choice(("email", "phone", "web", "chat")),
                "category": rng.choice(("question", "problem", "complaint", "billing")),
                "priority": priority,
                "first_response_due": moment(context, opened + first / 24),
                "resolution_due": moment(context, opened + resolve / 24),
                "owner_id": rng.choice(agents),
            },
        )
        target = weighted(rng, (("new", 15), ("in_progress", 25), ("waiting", 10),
                                ("escalated", 5), ("resolved", 15), ("closed", 30)))  # fmt: skip
        steps: list[tuple] = [] if target == "new" else [("respond", {})]
        if target == "waiting":
            steps.append(("wait", {}, "Asked the customer for log files."))
        if target == "escalated":
            steps.append(("escalate", {}))
        if target in ("resolved", "closed"):
            steps.append(("resolve", {"resolution": "Fixed configuration; customer confirmed."}))
        if target == "closed":
            steps.append(("close", {}))
        cases.append(advance(context, "crm.case", case, steps))
    return cases


def _activities(
    context: Any,
    rng: Any,
    reps: list[int],
    accounts: list,
    contacts_by_account: dict,
    opportunities: list,
    leads: list,
    cases: list,
) -> None:
    subjects = {
        "call": ("Discovery call", "Follow-up call", "Pricing call", "Check-in"),
        "email": ("Sent proposal", "Sent case study", "Answered questions", "Meeting recap"),
        "meeting": ("On-site demo", "Quarterly business review", "Workshop", "Kick-off"),
        "task": ("Prepare quote", "Update forecast", "Send contract", "Book demo room"),
        "note": ("Budget approved for Q3", "New IT director", "Competitor in the deal"),
    }
    targets = (
        [("crm.account", a) for a in accounts]
        + [("crm.opportunity", o) for o in opportunities]
        + [("crm.lead", lead) for lead in leads[:120]]
        + [("crm.case", c) for c in cases[:60]]
    )
    for _ in range(ACTIVITIES):
        entity, record = rng.choice(targets)
        kind = weighted(
            rng, (("call", 35), ("email", 30), ("meeting", 15), ("task", 12), ("note", 8))
        )
        offset = rng.uniform(-120, 30)
        done = (offset < 0 and kind != "task") or (kind == "task" and offset < -3)
        account_id = record["id"] if entity == "crm.account" else record.get("account")
        contacts = contacts_by_account.get(account_id) or [None]
        contact = rng.choice(contacts)
        owner = record.get("owner_id") if record.get("owner_id") in reps else rng.choice(reps)
        create(
            context,
            "crm.activity",
            {
                "activity_type": kind,
                "subject": rng.choice(subjects[kind]),
                "regarding": {"entity": entity, "id": record["id"]},
                "contact": contact["id"] if contact else None,
                "direction": rng.choice(("inbound", "outbound"))
                if kind in ("call", "email")
                else None,
                "status": "completed" if done else "open",
                "due_at": moment(context, offset),
                "completed_at": moment(context, offset) if done else None,
                "duration_minutes": rng.choice((15, 30, 45, 60, 90))
                if kind in ("call", "meeting")
                else None,
                "outcome": rng.choice(("reached", "left_message", "interested"))
                if kind == "call" and done
                else None,
                "owner_id": owner,
            },
        )
