"""Supplier demo data: 70 suppliers on the directory's companies (many of them customers too),
their contacts, about 100 agreements (some due for renewal, some expired), quarterly
evaluations and incidents. Later workflow states are reached by firing transitions when the
platform runs workflows (``xrm_party.demo.advance``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xrm_party.demo import advance, all_records, create, day, demo_users, today, weighted

TEAM = (
    ("max.hartmann", "Max", "Hartmann", "Purchaser"),
    ("nina.costa", "Nina", "Costa", "Purchaser"),
    ("oskar.lehmann", "Oskar", "Lehmann", "Purchasing Manager"),
    ("priya.nair", "Priya", "Nair", "Quality Manager"),
)
SUPPLIERS = 70
CATEGORIES = (
    ("raw_materials", 4), ("components", 5), ("packaging", 2), ("logistics", 3),
    ("it_services", 3), ("facility", 2), ("professional_services", 2), ("energy", 1),
    ("office", 1),
)  # fmt: skip
STATUS = (("applied", 8), ("under_review", 8), ("approved", 46), ("rejected", 3), ("blocked", 5))
PATHS = {
    "applied": [],
    "under_review": [("start_review", {})],
    "approved": [("start_review", {}), ("approve", {})],
    "rejected": [("start_review", {}), ("reject", {}, "Could not meet our quality requirements.")],
    "blocked": [
        ("start_review", {}),
        ("approve", {}),
        ("block", {"blocked_reason": "Repeated quality defects"}, "Blocked after the audit."),
    ],
}
AGREEMENT_TITLES = {
    "framework": "Framework agreement {year}",
    "purchase": "Purchase contract {category}",
    "service_level": "Service-level agreement",
    "quality": "Quality assurance agreement",
    "nda": "Mutual NDA",
}
QUARTERS = 4


def load(context: Any) -> None:
    rng = context.random
    users = demo_users(context, TEAM)
    buyers = [users["max.hartmann"], users["nina.costa"]]
    companies = all_records(context, "party.organization", {"kind": "eq.company"})
    people_by_org: dict[int, list[dict]] = {}
    for person in all_records(context, "party.person", {"organization": "not.is.null"}):
        people_by_org.setdefault(person["organization"], []).append(person)

    for org in rng.sample(companies, SUPPLIERS):
        status = weighted(rng, STATUS)
        category = weighted(rng, CATEGORIES)
        quality = rng.uniform(2.2, 4.8)  # how good this supplier is, drives its evaluations
        certified = rng.random() < 0.6
        supplier = create(
            context,
            "vrm.supplier",
            {
                "organization": org["id"],
                "category": category,
                "risk_level": weighted(rng, (("low", 5), ("medium", 4), ("high", 1))),
                "payment_terms": rng.choice(("net30", "net30", "net60", "net15")),
                "annual_spend": {"amount": str(rng.randint(20, 2500) * 1000), "currency": "EUR"},
                "certified_iso9001": certified,
                "certificate_expires_on": day(context, rng.randint(30, 900)) if certified else None,
                "due_diligence_done": status in ("approved", "blocked"),
                "owner_id": rng.choice(buyers),
            },
        )
        for person in people_by_org.get(org["id"], [])[:2]:
            create(
                context,
                "vrm.supplier_contact",
                {
                    "supplier": supplier["id"],
                    "person": person["id"],
                    "contact_role": rng.choice(
                        ("account_manager", "sales", "quality", "logistics")
                    ),
                    "primary": person is people_by_org[org["id"]][0],
                    "owner_id": supplier["owner_id"],
                },
            )
        if status in ("approved", "blocked"):
            _agreements(context, supplier, category)
            _evaluations(context, supplier, quality)
            if rng.random() < 0.45 or status == "blocked":
                _incidents(
                    context, supplier, 1 + int(rng.random() * (4 if status == "blocked" else 2))
                )
        advance(context, "vrm.supplier", supplier, PATHS[status])


def _agreements(context: Any, supplier: dict, category: str) -> None:
    rng = context.random
    for kind in rng.sample(list(AGREEMENT_TITLES), rng.choice((1, 1, 2, 2, 3))):
        end_offset = rng.randint(-120, 720)
        start_offset = end_offset - rng.choice((365, 730, 1095))
        notice = rng.choice((30, 60, 90, 90, 180))
        title = AGREEMENT_TITLES[kind].format(
            year=(today(context) + dt.timedelta(days=start_offset)).year,
            category=category.replace("_", " "),
        )
        agreement = create(
            context,
            "vrm.agreement",
            {
                "supplier": supplier["id"],
                "title": title,
                "agreement_type": kind,
                "start_date": day(context, start_offset),
                "end_date": day(context, end_offset),
                "notice_period_days": notice,
                "auto_renew": kind in ("nda", "service_level") and rng.random() < 0.5,
                # what the renewal-reminder timer would have set by today
                "renewal_due": 0 <= end_offset <= notice + 30,
                "annual_value": rng.randint(5, 900) * 1000 if kind != "nda" else None,
                "owner_id": supplier["owner_id"],
            },
        )
        steps: list[tuple] = [("activate", {})]
        if end_offset < 0:
            steps.append(("expire", {}))
        elif rng.random() < 0.05:
            steps.append(("terminate", {}, "Supplier consolidation."))
        advance(context, "vrm.agreement", agreement, steps)


def _evaluations(context: Any, supplier: dict, quality: float) -> None:
    rng = context.random
    now = today(context)
    for back in range(QUARTERS, 0, -1):
        quarter_end = now - dt.timedelta(days=91 * back)
        period = f"{quarter_end.year}-Q{(quarter_end.month - 1) // 3 + 1}"

        def mark(bias: float) -> int:
            return max(1, min(5, round(rng.gauss(quality + bias, 0.7))))

        create(
            context,
            "vrm.evaluation",
            {
                "supplier": supplier["id"],
                "period": period,
                "evaluated_on": (quarter_end + dt.timedelta(days=5)).isoformat(),
                "quality": mark(0),
                "delivery": mark(-0.2),
                "price": mark(-0.4),
                "service": mark(0.2),
                "owner_id": supplier["owner_id"],
            },
        )


def _incidents(context: Any, supplier: dict, count: int) -> None:
    rng = context.random
    titles = {
        "quality": "Batch failed incoming inspection",
        "late_delivery": "Delivery {days} days late",
        "wrong_quantity": "Short shipment",
        "damage": "Pallets damaged in transit",
        "invoice": "Invoice does not match the order",
    }
    for _ in range(count):
        kind = rng.choice(list(titles))
        occurred = -rng.randint(1, 300)
        incident = create(
            context,
            "vrm.incident",
            {
                "supplier": supplier["id"],
                "title": titles[kind].format(days=rng.randint(2, 14)),
                "incident_type": kind,
                "severity": weighted(
                    rng, (("low", 3), ("medium", 4), ("high", 2), ("critical", 1))
                ),
                "occurred_on": day(context, occurred),
                "cost_impact": rng.randint(1, 400) * 50,
                "owner_id": supplier["owner_id"],
            },
        )
        steps: list[tuple] = []
        if occurred < -20:
            steps = [
                ("investigate", {}),
                ("resolve", {"corrective_action": "8D report accepted; inspection tightened."}),
                ("close", {}),
            ]
        elif occurred < -5:
            steps = [("investigate", {})]
        advance(context, "vrm.incident", incident, steps)
