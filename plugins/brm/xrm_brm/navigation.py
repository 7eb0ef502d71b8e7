"""Default roles, menus, shared views and dashboards of the partner plugin (data only)."""

from __future__ import annotations

RW = ["read", "create", "update"]
ALL = ["read", "create", "update", "delete", "import", "export"]
PARTY = {"party.organization": RW, "party.person": RW, "party.relationship": RW}
BRM = ("brm.partner", "brm.partner_agreement", "brm.deal_registration", "brm.partner_performance")

ROLES = [
    {
        "name": "Partner Manager",
        "permissions": {
            **PARTY,
            **{e: ALL for e in BRM},
            "crm.account": RW,
            "crm.opportunity": ["read", "create"],
        },
        "scopes": {
            **{e: "all" for e in PARTY},
            "brm.partner": "own",
            "brm.partner_agreement": "all",
            "brm.deal_registration": "all",
            "brm.partner_performance": "all",
            "crm.account": "all",
            "crm.opportunity": "all",
        },
    },
    # The CRM's sales roles exist already (brm requires crm): on its first install the plugin
    # extends them with read access to the partner side of the customer-company-partner triangle.
    *(
        {
            "name": name,
            "permissions": {"brm.partner": ["read"], "brm.deal_registration": ["read"]},
            "scopes": {"brm.partner": "all", "brm.deal_registration": "all"},
        }
        for name in ("Sales Rep", "Sales Manager", "Sales Director")
    ),
    {
        # a partner's own people (portal users): they register deals and see their own
        "name": "Partner Portal User",
        "permissions": {
            "brm.deal_registration": RW,
            "brm.partner": ["read"],
            "crm.account": ["read", "create"],
            "party.organization": ["read", "create"],
        },
        "scopes": {"brm.deal_registration": "own", "brm.partner": "all"},
    },
]

MENUS = [
    {
        "name": "brm",
        "label": "Partners",
        "order": 50,
        "items": [
            {"dashboard": "brm.partners"},
            {"entity": "brm.partner"},
            {"entity": "brm.deal_registration"},
            {"view": "brm.registration_board"},
            {"entity": "brm.partner_agreement"},
            {"entity": "brm.partner_performance"},
        ],
    }
]

VIEWS = [
    {
        "name": "brm.registration_board",
        "entity": "brm.deal_registration",
        "label": "Deal registrations",
        "kind": "kanban",
        "groupBy": "status",
        "columns": ["number", "title", "partner", "end_customer", "estimated_value"],
        "query": "order=submitted_on.desc",
    },
    {
        "name": "brm.pending_registrations",
        "entity": "brm.deal_registration",
        "label": "Registrations to decide",
        "kind": "list",
        "columns": [
            "number",
            "title",
            "partner",
            "end_customer",
            "estimated_value",
            "submitted_on",
        ],
        "query": "status=eq.submitted&order=submitted_on.asc",
    },
    {
        "name": "brm.partners_by_tier",
        "entity": "brm.partner",
        "label": "Partners by tier",
        "kind": "kanban",
        "groupBy": "tier",
        "columns": ["name", "partner_type", "territory", "certified_staff"],
        "query": "status=eq.active&order=name",
    },
    {
        "name": "brm.partner_deals",
        "entity": "crm.opportunity",
        "label": "Partner-sourced opportunities",
        "kind": "list",
        "columns": ["number", "name", "account", "partner", "stage", "amount"],
        "query": "partner=not.is.null&order=close_date.asc",
    },
]

DASHBOARDS = [
    {
        "name": "brm.partners",
        "label": "Partner performance",
        "charts": [
            {
                "type": "bar",
                "title": "Revenue per partner (last four quarters)",
                "entity": "brm.partner_performance",
                "groupBy": "partner",
                "measure": "sum:revenue",
            },
            {
                "type": "line",
                "title": "Partner revenue per quarter",
                "entity": "brm.partner_performance",
                "groupBy": "period",
                "measure": "sum:revenue",
            },
            {
                "type": "funnel",
                "title": "Deal registrations",
                "entity": "brm.deal_registration",
                "groupBy": "status",
                "measure": "sum:estimated_value",
            },
            {
                "type": "pie",
                "title": "Partners by tier",
                "entity": "brm.partner",
                "groupBy": "tier",
                "measure": "count",
                "query": "status=eq.active",
            },
            {
                "type": "pareto",
                "title": "ABC analysis: partners by revenue",
                "entity": "brm.partner_performance",
                "groupBy": "partner",
                "measure": "sum:revenue",
            },
            {
                "type": "bar",
                "title": "Pipeline via partners",
                "entity": "crm.opportunity",
                "groupBy": "partner",
                "measure": "sum:amount",
                "query": "partner=not.is.null&stage=in.(prospecting,qualification,proposal,negotiation)",
            },
        ],
    }
]

EXTENSIONS = [
    {
        "entity": "crm.opportunity",
        "properties": {
            "partner": {
                "title": "Partner",
                "description": "The partner that brought or sells this deal.",
                "x-xrm": {"type": "reference", "target": "brm.partner", "onDelete": "setNull"},
            },
            "deal_registration": {
                "title": "Deal registration",
                "x-xrm": {
                    "type": "reference",
                    "target": "brm.deal_registration",
                    "onDelete": "setNull",
                },
            },
        },
    },
    {
        "entity": "crm.account",
        "properties": {
            "preferred_partner": {
                "title": "Preferred partner",
                "description": "The partner who serves this customer.",
                "x-xrm": {"type": "reference", "target": "brm.partner", "onDelete": "setNull"},
            }
        },
    },
]
