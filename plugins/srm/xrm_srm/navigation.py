"""Default roles, menus, shared views and dashboards of the stakeholder plugin (data only)."""

from __future__ import annotations

RW = ["read", "create", "update"]
ALL = ["read", "create", "update", "delete", "import", "export"]
PARTY = {"party.organization": RW, "party.person": RW, "party.relationship": RW}
SRM = ("srm.stakeholder", "srm.engagement", "srm.concern", "srm.shareholding")

ROLES = [
    {
        "name": "Stakeholder Manager",
        "permissions": {**PARTY, **{e: ALL for e in SRM}},
        "scopes": {**{e: "all" for e in PARTY}, **{e: "all" for e in SRM}},
    },
    {
        "name": "Investor Relations",
        "permissions": {
            **PARTY,
            "srm.stakeholder": RW,
            "srm.engagement": RW,
            "srm.concern": RW,
            "srm.shareholding": ALL,
        },
        "scopes": {**{e: "all" for e in PARTY}, **{e: "all" for e in SRM}},
    },
]

MENUS = [
    {
        "name": "srm",
        "label": "Stakeholders",
        "order": 40,
        "items": [
            {"dashboard": "srm.power_interest"},
            {"entity": "srm.stakeholder"},
            {"view": "srm.strategy_board"},
            {"entity": "srm.engagement"},
            {"entity": "srm.concern"},
            {"view": "srm.open_concerns"},
            {"entity": "srm.shareholding"},
        ],
    }
]

VIEWS = [
    {
        "name": "srm.strategy_board",
        "entity": "srm.stakeholder",
        "label": "Power/interest grid",
        "kind": "kanban",
        "groupBy": "quadrant",
        "columns": ["name", "stakeholder_type", "power", "interest", "sentiment"],
        "query": "order=power.desc,interest.desc",
    },
    {
        "name": "srm.engagement_due",
        "entity": "srm.stakeholder",
        "label": "Engagement due",
        "kind": "list",
        "columns": ["name", "strategy", "last_engaged_on", "next_engagement_on"],
        "query": "order=next_engagement_on.asc",
    },
    {
        "name": "srm.open_concerns",
        "entity": "srm.concern",
        "label": "Open concerns",
        "kind": "kanban",
        "groupBy": "status",
        "columns": ["number", "title", "stakeholder", "severity", "response_due"],
        "query": "status=in.(raised,acknowledged,in_progress)&order=response_due.asc",
    },
    {
        "name": "srm.shareholder_register",
        "entity": "srm.shareholding",
        "label": "Shareholder register",
        "kind": "list",
        "columns": ["stakeholder", "share_class", "shares", "percentage", "voting_rights"],
        "query": "order=shares.desc",
    },
]

DASHBOARDS = [
    {
        "name": "srm.power_interest",
        "label": "Stakeholder map",
        "charts": [
            {
                "type": "bar",
                "title": "Power/interest grid",
                "entity": "srm.stakeholder",
                "groupBy": "quadrant",
                "measure": "count",
            },
            {
                "type": "bar",
                "title": "Stakeholders by strategy",
                "entity": "srm.stakeholder",
                "groupBy": "strategy",
                "measure": "count",
            },
            {
                "type": "pie",
                "title": "Stakeholders by type",
                "entity": "srm.stakeholder",
                "groupBy": "stakeholder_type",
                "measure": "count",
            },
            {
                "type": "bar",
                "title": "Attitude",
                "entity": "srm.stakeholder",
                "groupBy": "sentiment",
                "measure": "count",
            },
            {
                "type": "bar",
                "title": "Open concerns by topic",
                "entity": "srm.concern",
                "groupBy": "topic",
                "measure": "count",
                "query": "status=in.(raised,acknowledged,in_progress)",
            },
            {
                "type": "pareto",
                "title": "Shareholder concentration",
                "entity": "srm.shareholding",
                "groupBy": "stakeholder",
                "measure": "sum:shares",
            },
        ],
    }
]
