"""The small CRM the end-user browser tests work with: accounts, leads with a workflow and form
rules, and a sales role. Applied through the same API an administrator would use."""

from __future__ import annotations

from browser_kit import LiveServer, make_user

ACCOUNT = {
    "title": "Account",
    "x-xrm": {"name": "crm.account", "titleField": "name", "searchFields": ["name"]},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 80},
        "industry": {"type": "string", "enum": ["retail", "energy", "banking"]},
    },
}

LEAD = {
    "title": "Lead",
    "x-xrm": {
        "name": "crm.lead",
        "titleField": "company",
        "searchFields": ["company", "contact_name"],
        "listColumns": ["company", "contact_name", "status", "score", "budget", "account"],
    },
    "required": ["company"],
    "properties": {
        "company": {"type": "string", "maxLength": 120},
        "contact_name": {"type": "string", "maxLength": 120},
        "status": {
            "type": "string",
            "enum": ["new", "contacted", "qualified", "lost"],
            "default": "new",
        },
        "source": {"type": "string", "enum": ["web", "event", "referral"]},
        "referrer": {"type": "string", "maxLength": 120},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "budget": {
            "title": "Budget",
            "x-xrm": {"type": "money", "defaultCurrency": "EUR", "currencies": ["EUR", "USD"]},
        },
        "follow_up_on": {"type": "string", "format": "date"},
        "hot": {"type": "boolean"},
        "account": {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "setNull"}},
        "notes": {"type": "string", "x-xrm": {"type": "longtext"}},
    },
}

WORKFLOW = {
    "$schema": "urn:xrm:schema:workflow",
    "name": "crm.lead_flow",
    "label": "Lead flow",
    "entity": "crm.lead",
    "stateField": "status",
    "states": {
        "new": {"label": "New", "initial": True},
        "contacted": {"label": "Contacted"},
        "qualified": {"label": "Qualified", "final": True},
        "lost": {"label": "Lost", "final": True},
    },
    "transitions": [
        {"name": "contact", "label": "Log contact", "from": "new", "to": "contacted"},
        {
            "name": "qualify",
            "label": "Qualify",
            "from": "contacted",
            "to": "qualified",
            "guard": "record.score >= 50",
            "guardMessage": "a qualified lead has a score of 50 or more",
        },
        {"name": "give_up", "label": "Give up", "from": ["new", "contacted"], "to": "lost"},
    ],
}

RULES = {
    "$schema": "urn:xrm:schema:rules",
    "name": "crm.lead_rules",
    "entity": "crm.lead",
    "formRules": [
        {
            "name": "referral",
            "when": "record.source == 'referral'",
            "show": ["referrer"],
            "require": ["referrer"],
        }
    ],
}

SALES_PASSWORD = "sales-password-1"


def install_crm(server: LiveServer, *, workflow: bool = True) -> None:
    server.apply(ACCOUNT, LEAD)
    if workflow:
        server.api("PUT", "/meta/workflows/crm.lead_flow", WORKFLOW)
        server.api("PUT", "/meta/rules/crm.lead_rules", RULES)


def add_sales_user(server: LiveServer, username: str = "sally") -> None:
    make_user(
        server,
        username,
        SALES_PASSWORD,
        role="Sales",
        grants={
            "crm.lead": ["read", "create", "update", "delete", "export"],
            "crm.account": ["read"],
        },
    )


def lead(server: LiveServer, **values) -> dict:
    return server.api("POST", "/data/crm.lead", {"company": "Acme", **values})
