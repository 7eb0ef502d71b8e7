"""Stakeholder demo data: the directory's authorities, NGOs, communities, media and investment
firms, a few companies holding shares (some of them customers or suppliers too), private
shareholders, employee representatives and politicians; their engagements, concerns and
shareholdings. Later workflow states are reached by firing transitions when the platform runs
workflows (``xrm_party.demo.advance``)."""

from __future__ import annotations

from typing import Any

from xrm_party.demo import advance, all_records, create, day, demo_users, weighted

TEAM = (
    ("quentin.murphy", "Quentin", "Murphy", "Stakeholder Manager"),
    ("rosa.garcia", "Rosa", "García", "Investor Relations"),
)
KIND_TYPES = {
    "public_body": "authority",
    "ngo": "ngo",
    "community": "community",
    "media": "media",
    "investor": "investor",
}
# typical (power, interest) per stakeholder type
PROFILE = {
    "authority": (4.5, 3.0),
    "ngo": (2.5, 4.2),
    "community": (1.8, 4.0),
    "media": (3.2, 2.6),
    "investor": (4.0, 3.5),
    "shareholder": (2.5, 3.2),
    "employee_representative": (3.6, 4.6),
    "politician": (3.8, 2.4),
}
TOPICS = {
    "authority": ("compliance", "environment", "safety"),
    "ngo": ("environment", "transparency", "employment"),
    "community": ("community_impact", "environment", "safety"),
    "media": ("transparency", "strategy", "employment"),
    "investor": ("strategy", "dividends", "governance"),
    "shareholder": ("dividends", "governance", "strategy"),
    "employee_representative": ("employment", "safety", "strategy"),
    "politician": ("employment", "community_impact", "environment"),
}
CONCERNS = {
    "environment": "Emissions from the new paint shop",
    "employment": "Plans to outsource the call centre",
    "governance": "Board independence",
    "dividends": "Dividend policy after the acquisition",
    "strategy": "Exposure to a single large customer",
    "community_impact": "Night-time truck traffic",
    "safety": "Forklift accidents in the warehouse",
    "transparency": "Missing supply-chain disclosure",
    "compliance": "Permit renewal for the site extension",
}


def load(context: Any) -> None:
    rng = context.random
    users = demo_users(context, TEAM)
    owners = list(users.values())
    orgs = all_records(context, "party.organization")
    privates = all_records(context, "party.person", {"organization": "is.null"})

    holders: list[tuple[dict, str]] = []
    for org in orgs:
        if org["kind"] in KIND_TYPES:
            holders.append(({"organization": org["id"]}, KIND_TYPES[org["kind"]]))
    for org in rng.sample([o for o in orgs if o["kind"] == "company"], 8):
        holders.append(({"organization": org["id"]}, "shareholder"))
    kinds = ["shareholder"] * 22 + ["employee_representative"] * 5 + ["politician"] * 5
    for person, kind in zip(privates, kinds, strict=False):
        holders.append(({"person": person["id"]}, kind))

    stakeholders = []
    for link, kind in holders:
        power_mean, interest_mean = PROFILE[kind]
        stakeholder = create(
            context,
            "srm.stakeholder",
            {
                **link,
                "stakeholder_type": kind,
                "power": max(1, min(5, round(rng.gauss(power_mean, 0.9)))),
                "interest": max(1, min(5, round(rng.gauss(interest_mean, 0.9)))),
                "sentiment": weighted(
                    rng, (("supportive", 3), ("neutral", 4), ("critical", 2), ("opposed", 1))
                ),
                "topics": sorted(rng.sample(TOPICS[kind], 2)),
                "owner_id": users["rosa.garcia"]
                if kind in ("shareholder", "investor")
                else users["quentin.murphy"],
            },
        )
        stakeholders.append(stakeholder)
        if kind in ("shareholder", "investor"):
            _shareholdings(context, stakeholder, kind)

    concerns = _concerns(
        context, [s for s in stakeholders if s["stakeholder_type"] != "shareholder"]
    )
    types = ("meeting", "call", "letter", "site_visit", "event", "survey", "report")
    for _ in range(220):
        stakeholder = rng.choice(stakeholders)
        kind = stakeholder["stakeholder_type"]
        topic = rng.choice(TOPICS[kind])
        related = [c for c in concerns if c["stakeholder"] == stakeholder["id"]]
        create(
            context,
            "srm.engagement",
            {
                "stakeholder": stakeholder["id"],
                "engagement_type": "agm"
                if kind == "shareholder" and rng.random() < 0.3
                else rng.choice(types),
                "subject": f"{topic.replace('_', ' ').capitalize()} discussion",
                "engaged_on": day(context, -rng.randint(1, 400)),
                "topics": [topic],
                "outcome": weighted(rng, (("positive", 4), ("neutral", 4), ("negative", 2))),
                "concern": related[0]["id"] if related and rng.random() < 0.5 else None,
                "follow_up_on": day(context, rng.randint(5, 60)) if rng.random() < 0.3 else None,
                "owner_id": rng.choice(owners),
            },
        )


def _shareholdings(context: Any, stakeholder: dict, kind: str) -> None:
    rng = context.random
    classes = ["ordinary"] + (["preferred"] if rng.random() < 0.3 else [])
    for share_class in classes:
        big = kind == "investor" or stakeholder.get("organization")
        shares = int(rng.paretovariate(1.3) * (40_000 if big else 800))
        create(
            context,
            "srm.shareholding",
            {
                "stakeholder": stakeholder["id"],
                "share_class": share_class,
                "shares": min(shares, 2_500_000),
                "total_shares": 10_000_000 if share_class == "ordinary" else 2_000_000,
                "voting_rights": share_class == "ordinary",
                "acquired_on": day(context, -rng.randint(100, 4000)),
                "custodian": rng.choice(("Deutsche Bank", "Commerzbank", "UBS", "BNP Paribas")),
            },
        )


def _concerns(context: Any, stakeholders: list) -> list:
    rng = context.random
    concerns = []
    for _ in range(45):
        stakeholder = rng.choice(stakeholders)
        topic = rng.choice(TOPICS[stakeholder["stakeholder_type"]])
        raised = -rng.randint(1, 200)
        concern = create(
            context,
            "srm.concern",
            {
                "stakeholder": stakeholder["id"],
                "title": CONCERNS.get(topic, "Question about our plans"),
                "topic": topic,
                "severity": weighted(rng, (("low", 3), ("medium", 5), ("high", 2))),
                "raised_on": day(context, raised),
                "response_due": day(context, raised + 14),
                "owner_id": stakeholder["owner_id"],
            },
        )
        answer = {"resolution": "Explained the measures taken and agreed on a follow-up."}
        if raised < -60:
            target = weighted(rng, (("resolved", 8), ("rejected", 2)))
        elif raised < -10:
            target = weighted(rng, (("acknowledged", 3), ("in_progress", 5), ("resolved", 2)))
        else:
            target = weighted(rng, (("raised", 6), ("acknowledged", 4)))
        steps: list[tuple] = {
            "raised": [],
            "acknowledged": [("acknowledge", {})],
            "in_progress": [("acknowledge", {}), ("start", {})],
            "resolved": [("acknowledge", {}), ("start", {}), ("resolve", answer)],
            "rejected": [("reject", answer, "Outside our responsibility.")],
        }[target]
        concerns.append(advance(context, "srm.concern", concern, steps))
    return concerns
