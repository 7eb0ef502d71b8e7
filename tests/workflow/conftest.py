"""Example definitions the workflow specifications are written against: a sales opportunity,
built with the metadata engine's own validation."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from xrm.metadata.validation import check_definition

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

REP = 1


@pytest.fixture
def opportunity():
    return check_definition(copy.deepcopy(OPPORTUNITY), {})


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
