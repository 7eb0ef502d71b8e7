"""A small sales pipeline to show the generated UI: accounts and opportunities with a workflow,
a menu group, a shared board view and a dashboard, shipped as a plugin object. Used by the
screenshot script (``python -m xrm.web.ui.screenshots``) and the dashboard browser tests.

Nothing here is loaded by a running server unless it is passed as a plugin explicitly
(``create_app({"PLUGINS": {"tour": TourPlugin()}})``).
"""

from __future__ import annotations

import random
from typing import Any

from ...core.context import SYSTEM
from ...core.plugins import hookimpl

ACCOUNT = {
    "title": "Account",
    "x-xrm": {
        "name": "tour.account",
        "titleField": "name",
        "listColumns": ["name", "industry", "city", "employees"],
    },
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 120},
        "industry": {
            "type": "string",
            "enum": ["retail", "energy", "banking", "health", "software"],
            "x-xrm": {
                "options": [
                    {"value": "retail", "label": "Retail"},
                    {"value": "energy", "label": "Energy"},
                    {"value": "banking", "label": "Banking"},
                    {"value": "health", "label": "Health care"},
                    {"value": "software", "label": "Software"},
                ]
            },
        },
        "city": {"type": "string", "maxLength": 80},
        "employees": {"type": "integer", "minimum": 0},
        "website": {"type": "string", "format": "uri"},
    },
}

OPPORTUNITY = {
    "title": "Opportunity",
    "x-xrm": {
        "name": "tour.opportunity",
        "labels": {"singular": "Opportunity", "plural": "Opportunities"},
        "titleField": "name",
        "searchFields": ["name"],
        "listColumns": ["name", "account", "stage", "amount", "probability", "close_on"],
    },
    "required": ["name", "account"],
    "properties": {
        "name": {"type": "string", "maxLength": 120},
        "account": {"x-xrm": {"type": "reference", "target": "tour.account"}},
        "stage": {
            "type": "string",
            "enum": ["lead", "qualified", "proposal", "won", "lost"],
            "default": "lead",
        },
        "amount": {
            "title": "Amount",
            "x-xrm": {"type": "money", "defaultCurrency": "EUR", "currencies": ["EUR", "USD"]},
        },
        "probability": {"type": "integer", "minimum": 0, "maximum": 100},
        "close_on": {"type": "string", "format": "date", "title": "Expected close"},
        "priority": {"type": "string", "enum": ["low", "normal", "high"]},
        "description": {"type": "string", "x-xrm": {"type": "longtext"}},
    },
}

WORKFLOW = {
    "$schema": "urn:xrm:schema:workflow",
    "name": "tour.pipeline",
    "label": "Sales pipeline",
    "entity": "tour.opportunity",
    "stateField": "stage",
    "states": {
        "lead": {"label": "Lead", "initial": True, "colour": "#9e9e9e"},
        "qualified": {"label": "Qualified", "colour": "#1f77b4"},
        "proposal": {"label": "Proposal", "colour": "#ff7f0e"},
        "won": {"label": "Won", "final": True, "colour": "#2ca02c"},
        "lost": {"label": "Lost", "final": True, "colour": "#d62728"},
    },
    "transitions": [
        {"name": "qualify", "label": "Qualify", "from": "lead", "to": "qualified"},
        {
            "name": "propose",
            "label": "Send proposal",
            "from": "qualified",
            "to": "proposal",
            "guard": "record.probability >= 30",
            "guardMessage": "a proposal needs a probability of at least 30%",
        },
        {"name": "win", "label": "Mark won", "from": "proposal", "to": "won"},
        {
            "name": "lose",
            "label": "Mark lost",
            "from": ["lead", "qualified", "proposal"],
            "to": "lost",
        },
    ],
}

DASHBOARD = {
    "name": "tour.sales",
    "label": "Sales dashboard",
    "charts": [
        {
            "type": "number",
            "title": "Open opportunities",
            "entity": "tour.opportunity",
            "measure": "count",
            "query": "stage=in.(lead,qualified,proposal)",
        },
        {
            "type": "number",
            "title": "Won (EUR)",
            "entity": "tour.opportunity",
            "measure": "sum:amount",
            "query": "stage=eq.won",
        },
        {
            "type": "funnel",
            "title": "Pipeline by stage",
            "entity": "tour.opportunity",
            "groupBy": "stage",
            "measure": "count",
        },
        {
            "type": "bar",
            "title": "Amount by stage",
            "entity": "tour.opportunity",
            "groupBy": "stage",
            "measure": "sum:amount",
        },
        {
            "type": "pie",
            "title": "Accounts by industry",
            "entity": "tour.account",
            "groupBy": "industry",
            "measure": "count",
        },
        {
            "type": "line",
            "title": "Expected closes per month",
            "entity": "tour.opportunity",
            "groupBy": "close_on:month",
            "measure": "count",
            "query": "close_on=not.is.null",
        },
        {
            "type": "pareto",
            "title": "ABC analysis of accounts by amount",
            "entity": "tour.opportunity",
            "groupBy": "account",
            "measure": "sum:amount",
        },
    ],
}

CITIES = ["Berlin", "Lyon", "Porto", "Gdansk", "Bologna", "Utrecht", "Graz", "Aarhus"]
NAMES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Gringotts",
    "Oscorp",
    "Massive Dynamic",
]


class TourPlugin:
    """The tour's menu group, board view and dashboard (entities and workflow are applied by
    :func:`install`, as an administrator would)."""

    @hookimpl
    def xrm_plugin_info(self) -> dict[str, Any]:
        return {"name": "tour", "label": "Sales", "version": "1.0.0"}

    @hookimpl
    def xrm_menus(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "tour",
                "label": "Sales",
                "order": 10,
                "items": [
                    {"dashboard": "tour.sales"},
                    {"entity": "tour.opportunity"},
                    {"view": "tour.pipeline_board"},
                    {"entity": "tour.account"},
                ],
            }
        ]

    @hookimpl
    def xrm_views(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "tour.pipeline_board",
                "entity": "tour.opportunity",
                "label": "Pipeline board",
                "kind": "kanban",
                "groupBy": "stage",
            },
            {
                "name": "tour.big_deals",
                "entity": "tour.opportunity",
                "label": "Big deals",
                "kind": "list",
                "query": "amount=gte.50000&order=amount.desc",
            },
        ]

    @hookimpl
    def xrm_dashboards(self) -> list[dict[str, Any]]:
        return [DASHBOARD]


def install(platform: Any, *, seed: int = 7, accounts: int = 12, opportunities: int = 40) -> None:
    """Apply the entities and the workflow and create sample records (the same on every run)."""
    platform.registry.apply_documents([ACCOUNT, OPPORTUNITY])
    rnd = random.Random(seed)
    with platform.engine.begin() as conn:
        if getattr(platform, "workflows", None) is not None:
            platform.workflows.save(conn, "workflow", WORKFLOW, actor="tour")
        ids = []
        for i in range(accounts):
            rec = platform.records.create(
                conn,
                SYSTEM,
                "tour.account",
                {
                    "name": NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i}"),
                    "industry": rnd.choice(["retail", "energy", "banking", "health", "software"]),
                    "city": rnd.choice(CITIES),
                    "employees": rnd.randint(5, 5000),
                },
            )
            ids.append(rec["id"])
        for i in range(opportunities):
            rec = platform.records.create(
                conn,
                SYSTEM,
                "tour.opportunity",
                {
                    "name": f"{rnd.choice(['Renewal', 'Expansion', 'Pilot', 'Migration', 'Support'])} {i + 1}",
                    "account": rnd.choice(
                        ids[: max(3, len(ids) // 2)] if rnd.random() < 0.6 else ids
                    ),
                    "amount": {"amount": str(rnd.randrange(2, 120) * 1000), "currency": "EUR"},
                    "probability": rnd.choice([10, 20, 40, 60, 80]),
                    "close_on": f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    "priority": rnd.choice(["low", "normal", "high"]),
                },
            )
            if getattr(platform, "workflows", None) is None:
                continue
            path = rnd.choice(
                [
                    [],
                    ["qualify"],
                    ["qualify"],
                    ["qualify", "propose"],
                    ["qualify", "propose", "win"],
                    ["lose"],
                ]
            )
            for name in path:
                if name == "propose" and rec["probability"] < 30:
                    break
                platform.workflows.fire(conn, SYSTEM, "tour.opportunity", rec["id"], name)
