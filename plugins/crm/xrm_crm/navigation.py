"""Default roles, menus, shared views and dashboards of the CRM plugin (data, no behaviour)."""

from __future__ import annotations

RW = ["read", "create", "update"]
ALL = ["read", "create", "update", "delete", "import", "export"]
PARTY = {"party.organization": RW, "party.person": RW, "party.relationship": RW}
PARTY_SCOPES = {e: "all" for e in PARTY}
SALES = ("crm.account", "crm.contact", "crm.lead", "crm.opportunity", "crm.activity")


def _sales_role(name: str, scope: str, actions: list[str]) -> dict:
    return {
        "name": name,
        "permissions": {
            **PARTY,
            **{e: actions for e in SALES},
            "crm.case": ["read"],
            "crm.campaign": ["read"],
            "crm.campaign_member": ["read", "update"],
        },
        "scopes": {
            **PARTY_SCOPES,
            **{e: scope for e in SALES},
            # reps see every account and contact (to avoid duplicates) but only their own deals
            "crm.account": "all" if scope == "own" else scope,
            "crm.contact": "all" if scope == "own" else scope,
        },
    }


ROLES = [
    _sales_role("Sales Rep", "own", RW),
    _sales_role("Sales Manager", "team", [*RW, "delete", "export"]),
    _sales_role("Sales Director", "all", ALL),
    {
        "name": "Marketing Manager",
        "permissions": {
            **PARTY,
            "crm.campaign": ALL,
            "crm.campaign_member": ALL,
            "crm.lead": ALL,
            "crm.contact": ["read", "export"],
            "crm.account": ["read"],
            "crm.activity": RW,
        },
        "scopes": {**PARTY_SCOPES, "crm.campaign": "all", "crm.lead": "all"},
    },
    {
        "name": "Support Agent",
        "permissions": {
            **PARTY,
            "crm.case": RW,
            "crm.activity": RW,
            "crm.account": ["read"],
            "crm.contact": RW,
        },
        "scopes": {**PARTY_SCOPES, "crm.case": "own", "crm.activity": "own"},
    },
    {
        "name": "Support Manager",
        "permissions": {
            **PARTY,
            "crm.case": ALL,
            "crm.activity": RW,
            "crm.account": ["read"],
            "crm.contact": RW,
        },
        "scopes": {**PARTY_SCOPES, "crm.case": "all"},
    },
]

MENUS = [
    {
        "name": "crm",
        "label": "Sales",
        "order": 10,
        "items": [
            {"dashboard": "crm.sales"},
            {"view": "crm.pipeline_board"},
            {"entity": "crm.lead"},
            {"entity": "crm.opportunity"},
            {"entity": "crm.account"},
            {"entity": "crm.contact"},
            {"entity": "crm.activity"},
            {"view": "crm.my_open_activities"},
        ],
    },
    {
        "name": "marketing",
        "label": "Marketing",
        "order": 15,
        "items": [
            {"entity": "crm.campaign"},
            {"entity": "crm.campaign_member"},
            {"view": "crm.lead_board"},
        ],
    },
    {
        "name": "service",
        "label": "Service",
        "order": 20,
        "items": [
            {"dashboard": "crm.service"},
            {"view": "crm.case_board"},
            {"view": "crm.escalated_cases"},
            {"entity": "crm.case"},
        ],
    },
]

OPEN_STAGES = "prospecting,qualification,proposal,negotiation"

VIEWS = [
    {
        "name": "crm.pipeline_board",
        "entity": "crm.opportunity",
        "label": "Pipeline",
        "kind": "kanban",
        "groupBy": "stage",
        "columns": ["name", "account", "amount", "probability", "close_date"],
        "query": f"stage=in.({OPEN_STAGES})&order=close_date.asc",
    },
    {
        "name": "crm.open_opportunities",
        "entity": "crm.opportunity",
        "label": "Open opportunities",
        "kind": "list",
        "columns": [
            "number",
            "name",
            "account",
            "stage",
            "amount",
            "expected_revenue",
            "close_date",
        ],
        "query": f"stage=in.({OPEN_STAGES})&order=expected_revenue.desc",
    },
    {
        "name": "crm.lead_board",
        "entity": "crm.lead",
        "label": "Lead qualification",
        "kind": "kanban",
        "groupBy": "status",
        "columns": ["company", "last_name", "source", "score"],
        "query": "status=in.(new,contacted,qualified)&order=created_at.desc",
    },
    {
        "name": "crm.my_open_activities",
        "entity": "crm.activity",
        "label": "Open activities",
        "kind": "list",
        "columns": ["activity_type", "subject", "regarding", "due_at", "priority"],
        "query": "status=eq.open&order=due_at.asc",
    },
    {
        "name": "crm.case_board",
        "entity": "crm.case",
        "label": "Case board",
        "kind": "kanban",
        "groupBy": "status",
        "columns": ["number", "subject", "account", "priority", "resolution_due"],
        "query": "status=in.(new,in_progress,waiting,escalated,resolved)&order=resolution_due.asc",
    },
    {
        "name": "crm.escalated_cases",
        "entity": "crm.case",
        "label": "Escalated and overdue cases",
        "kind": "list",
        "columns": [
            "number",
            "subject",
            "account",
            "priority",
            "escalation_level",
            "resolution_due",
        ],
        "query": "or=(status.eq.escalated,resolution_breached.is.true)&order=resolution_due.asc",
    },
    {
        "name": "crm.newsletter_segment",
        "entity": "crm.contact",
        "label": "Segment: newsletter (e-mailable contacts)",
        "kind": "list",
        "columns": ["first_name", "last_name", "email", "account"],
        "query": "do_not_email=eq.false&email=not.is.null",
    },
    {
        "name": "crm.decision_makers_segment",
        "entity": "crm.contact",
        "label": "Segment: decision makers",
        "kind": "list",
        "columns": ["first_name", "last_name", "job_title", "account"],
        "query": "decision_role=eq.decision_maker",
    },
]

DASHBOARDS = [
    {
        "name": "crm.sales",
        "label": "Sales",
        "charts": [
            {
                "type": "funnel",
                "title": "Pipeline funnel",
                "entity": "crm.opportunity",
                "groupBy": "stage",
                "measure": "sum:amount",
                "query": f"stage=in.({OPEN_STAGES})",
            },
            {
                "type": "number",
                "title": "Weighted pipeline",
                "entity": "crm.opportunity",
                "measure": "sum:expected_revenue",
                "query": f"stage=in.({OPEN_STAGES})",
            },
            {
                "type": "pie",
                "title": "Win rate (won vs lost)",
                "entity": "crm.opportunity",
                "groupBy": "stage",
                "measure": "count",
                "query": "stage=in.(won,lost)",
            },
            {
                "type": "bar",
                "title": "Why we lose",
                "entity": "crm.opportunity",
                "groupBy": "lost_reason",
                "measure": "count",
                "query": "stage=eq.lost",
            },
            {
                "type": "pareto",
                "title": "ABC analysis: customers by won revenue",
                "entity": "crm.opportunity",
                "groupBy": "account",
                "measure": "sum:amount",
                "query": "stage=eq.won",
                "classes": {"A": 80, "B": 95, "C": 100},
            },
            {
                "type": "bar",
                "title": "Activities per sales rep",
                "entity": "crm.activity",
                "groupBy": "owner_id",
                "measure": "count",
            },
            {
                "type": "bar",
                "title": "Activities by type",
                "entity": "crm.activity",
                "groupBy": "activity_type",
                "measure": "count",
            },
            {
                "type": "bar",
                "title": "Leads by source",
                "entity": "crm.lead",
                "groupBy": "source",
                "measure": "count",
            },
        ],
    },
    {
        "name": "crm.service",
        "label": "Service",
        "charts": [
            {
                "type": "bar",
                "title": "Open cases by status",
                "entity": "crm.case",
                "groupBy": "status",
                "measure": "count",
                "query": "status=neq.closed",
            },
            {
                "type": "pie",
                "title": "Cases by priority",
                "entity": "crm.case",
                "groupBy": "priority",
                "measure": "count",
            },
            {
                "type": "number",
                "title": "First-response SLA missed",
                "entity": "crm.case",
                "measure": "count",
                "query": "first_response_breached=is.true",
            },
            {
                "type": "number",
                "title": "Resolution SLA missed",
                "entity": "crm.case",
                "measure": "count",
                "query": "resolution_breached=is.true",
            },
        ],
    },
]
