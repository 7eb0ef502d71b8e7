"""Example definitions the workflow specifications are written against: a sales opportunity
whose discount needs approval, built with the metadata engine's own validation."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from xrm.metadata.validation import check_definition
from xrm.workflow import Actor, check_workflow

NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)

OPPORTUNITY = {
    "title": "Opportunity",
    "x-xrm": {"name": "sales.opportunity"},
    "required": ["name", "stage"],
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "amount": {"x-xrm": {"type": "decimal", "precision": 14, "scale": 2}, "minimum": 0},
        "discount": {
            "title": "Discount (%)",
            "x-xrm": {"type": "decimal", "precision": 5, "scale": 2},
            "minimum": 0,
            "maximum": 100,
        },
        "net_amount": {"x-xrm": {"type": "decimal", "precision": 14, "scale": 2}, "readOnly": True},
        "quantity": {"type": "integer"},
        "stage": {"type": "string", "enum": ["draft", "quoted", "won", "lost"], "default": "draft"},
        "priority": {"type": "string", "enum": ["low", "normal", "high"]},
        "close_date": {"type": "string", "format": "date"},
        "valid_until": {"type": "string", "format": "date"},
        "quoted_at": {"type": "string", "format": "date-time"},
        "lost_reason": {"type": "string"},
        "notes": {"type": "string", "x-xrm": {"type": "longtext"}},
        "price": {"x-xrm": {"type": "money", "defaultCurrency": "EUR"}},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["new_logo", "upsell"]}},
        "extra": {"type": "object"},
    },
}

DISCOUNT_APPROVAL = {
    "name": "sales.discount_approval",
    "label": "Discount approval",
    "entity": "sales.opportunity",
    "stateField": "stage",
    "states": {
        "draft": {"label": "Draft", "initial": True, "colour": "#9e9e9e"},
        "quoted": {
            "label": "Quoted",
            "colour": "#1f77b4",
            "required": ["valid_until"],
            "readOnly": ["amount", "discount"],
            "timers": [
                {
                    "name": "remind",
                    "after": "P7D",
                    "actions": [
                        {
                            "type": "notify",
                            "to": {"owner": True},
                            "subject": "{{ record.name }} is waiting",
                        }
                    ],
                },
                {"name": "expire", "at": "valid_until", "offset": "P1D", "transition": "expire"},
            ],
        },
        "won": {
            "label": "Won",
            "final": True,
            "colour": "#2ca02c",
            "readOnly": ["amount", "discount"],
        },
        "lost": {"label": "Lost", "final": True, "colour": "#d62728", "required": ["lost_reason"]},
    },
    "transitions": [
        {
            "name": "send_quote",
            "label": "Send quote",
            "from": "draft",
            "to": "quoted",
            "roles": ["sales_rep", "sales_manager"],
            "guard": "record.amount != null && record.amount > 0.0",
            "guardMessage": "an opportunity needs an amount before it is quoted",
            "requiredFields": ["valid_until"],
            "approvals": [
                {
                    "name": "manager",
                    "label": "Sales manager",
                    "role": "sales_manager",
                    "when": "record.discount > 10.0",
                },
                {
                    "name": "director",
                    "label": "Sales director",
                    "role": "sales_director",
                    "when": "record.discount > 25.0",
                },
            ],
            "actions": [
                {
                    "type": "setFields",
                    "values": {
                        "quoted_at": "now",
                        "net_amount": "round(record.amount * (1.0 - (record.discount == null ? 0.0 : record.discount) / 100.0), 2)",
                    },
                },
                {
                    "type": "webhook",
                    "url": "https://erp.example.com/quotes",
                    "payload": {"name": "record.name", "net": "record.net_amount"},
                },
            ],
        },
        {"name": "win", "label": "Mark won", "from": "quoted", "to": "won", "ownerOnly": True},
        {
            "name": "lose",
            "label": "Mark lost",
            "from": ["draft", "quoted"],
            "to": "lost",
            "fields": ["notes"],
            "requiredFields": ["lost_reason"],
            "requireComment": True,
        },
        {
            "name": "expire",
            "label": "Expire",
            "from": "quoted",
            "to": "lost",
            "actions": [{"type": "setFields", "values": {"lost_reason": "'quote expired'"}}],
        },
        {
            "name": "reopen",
            "label": "Reopen",
            "from": "lost",
            "to": "draft",
            "roles": ["sales_manager"],
            "notByOwner": True,
        },
    ],
}

REP, MANAGER, DIRECTOR, OTHER_REP = 1, 2, 3, 4


@pytest.fixture
def opportunity():
    return check_definition(copy.deepcopy(OPPORTUNITY), {})


@pytest.fixture
def opportunity_with_sent():
    """Version 2 of the entity: the stage 'quoted' is called 'sent'."""
    doc = copy.deepcopy(OPPORTUNITY)
    doc["properties"]["stage"]["enum"] = ["draft", "sent", "won", "lost"]
    return check_definition(doc, {})


@pytest.fixture
def discount_doc():
    return copy.deepcopy(DISCOUNT_APPROVAL)


@pytest.fixture
def discount_wf(opportunity):
    return check_workflow(copy.deepcopy(DISCOUNT_APPROVAL), opportunity)


@pytest.fixture
def rep():
    return Actor(REP, frozenset({"sales_rep"}))


@pytest.fixture
def manager():
    return Actor(MANAGER, frozenset({"sales_manager"}))


@pytest.fixture
def director():
    return Actor(DIRECTOR, frozenset({"sales_director", "sales_manager"}))


def opp(**values):
    """An opportunity record as the record service returns it (JSON values)."""
    record = {
        "id": 7,
        "owner_id": REP,
        "name": "ACME renewal",
        "stage": "draft",
        "amount": "10000.00",
    }
    record.update(values)
    return record
