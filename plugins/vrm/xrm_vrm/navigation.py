"""Default roles, menus, shared views and dashboards of the supplier plugin (data only)."""

from __future__ import annotations

RW = ["read", "create", "update"]
ALL = ["read", "create", "update", "delete", "import", "export"]
PARTY = {"party.organization": RW, "party.person": RW, "party.relationship": RW}
VRM = ("vrm.supplier", "vrm.supplier_contact", "vrm.agreement", "vrm.evaluation", "vrm.incident")

ROLES = [
    {
        "name": "Purchaser",
        "permissions": {**PARTY, **{e: RW for e in VRM}},
        "scopes": {**{e: "all" for e in PARTY}, "vrm.agreement": "own", "vrm.incident": "all"},
    },
    {
        "name": "Purchasing Manager",
        "permissions": {**PARTY, **{e: ALL for e in VRM}},
        "scopes": {**{e: "all" for e in PARTY}, **{e: "all" for e in VRM}},
    },
    {
        "name": "Quality Manager",
        "permissions": {
            **PARTY,
            "vrm.supplier": ["read", "update"],
            "vrm.supplier_contact": ["read"],
            "vrm.agreement": ["read"],
            "vrm.evaluation": RW,
            "vrm.incident": ALL,
        },
        "scopes": {**{e: "all" for e in PARTY}, **{e: "all" for e in VRM}},
    },
]

MENUS = [
    {
        "name": "vrm",
        "label": "Suppliers",
        "order": 30,
        "items": [
            {"dashboard": "vrm.scorecards"},
            {"dashboard": "vrm.agreements"},
            {"entity": "vrm.supplier"},
            {"view": "vrm.onboarding_board"},
            {"entity": "vrm.supplier_contact"},
            {"entity": "vrm.agreement"},
            {"view": "vrm.expiring_agreements"},
            {"entity": "vrm.evaluation"},
            {"entity": "vrm.incident"},
        ],
    }
]

VIEWS = [
    {
        "name": "vrm.onboarding_board",
        "entity": "vrm.supplier",
        "label": "Supplier onboarding",
        "kind": "kanban",
        "groupBy": "status",
        "columns": ["name", "category", "risk_level", "rating"],
        "query": "order=name",
    },
    {
        "name": "vrm.expiring_agreements",
        "entity": "vrm.agreement",
        "label": "Expiring agreements",
        "kind": "list",
        "columns": ["number", "title", "supplier", "end_date", "renewal_reminder_on", "auto_renew"],
        "query": "status=eq.active&order=end_date.asc",
    },
    {
        "name": "vrm.renewals_due",
        "entity": "vrm.agreement",
        "label": "Renewals due",
        "kind": "list",
        "columns": ["number", "title", "supplier", "end_date", "notice_period_days"],
        "query": "status=eq.active&renewal_due=is.true&order=end_date.asc",
    },
    {
        "name": "vrm.c_suppliers",
        "entity": "vrm.supplier",
        "label": "C-rated suppliers",
        "kind": "list",
        "columns": ["name", "category", "last_score", "status"],
        "query": "rating=eq.C&order=last_score.asc",
    },
    {
        "name": "vrm.incident_board",
        "entity": "vrm.incident",
        "label": "Incidents",
        "kind": "kanban",
        "groupBy": "status",
        "columns": ["number", "title", "supplier", "severity"],
        "query": "order=occurred_on.desc",
    },
]

DASHBOARDS = [
    {
        "name": "vrm.scorecards",
        "label": "Supplier scorecards",
        "charts": [
            {
                "type": "bar",
                "title": "Average score per supplier",
                "entity": "vrm.evaluation",
                "groupBy": "supplier",
                "measure": "avg:score",
            },
            {
                "type": "pie",
                "title": "Suppliers by rating",
                "entity": "vrm.supplier",
                "groupBy": "rating",
                "measure": "count",
                "query": "status=eq.approved",
            },
            {
                "type": "bar",
                "title": "Evaluations by rating",
                "entity": "vrm.evaluation",
                "groupBy": "rating",
                "measure": "count",
            },
            {
                "type": "line",
                "title": "Average score per period",
                "entity": "vrm.evaluation",
                "groupBy": "period",
                "measure": "avg:score",
            },
            {
                "type": "bar",
                "title": "Incidents per supplier",
                "entity": "vrm.incident",
                "groupBy": "supplier",
                "measure": "count",
            },
            {
                "type": "pareto",
                "title": "ABC analysis: suppliers by agreement value",
                "entity": "vrm.agreement",
                "groupBy": "supplier",
                "measure": "sum:annual_value",
                "query": "status=eq.active",
            },
        ],
    },
    {
        "name": "vrm.agreements",
        "label": "Expiring agreements",
        "charts": [
            {
                "type": "number",
                "title": "Renewals due",
                "entity": "vrm.agreement",
                "measure": "count",
                "query": "status=eq.active&renewal_due=is.true",
            },
            {
                "type": "bar",
                "title": "Active agreements by end month",
                "entity": "vrm.agreement",
                "groupBy": "end_month",
                "measure": "count",
                "query": "status=eq.active",
            },
            {
                "type": "bar",
                "title": "Agreement value by end month",
                "entity": "vrm.agreement",
                "groupBy": "end_month",
                "measure": "sum:annual_value",
                "query": "status=eq.active",
            },
            {
                "type": "pie",
                "title": "Agreements by status",
                "entity": "vrm.agreement",
                "groupBy": "status",
                "measure": "count",
            },
        ],
    },
]
