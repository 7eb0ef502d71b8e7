"""Party plugin: the shared party model of the xRM platform.

Organisations and people exist once (``party.organization``, ``party.person``); the roles they
play are records of the relationship plugins that refer to them one to one (``crm.account``,
``vrm.supplier``, ``srm.stakeholder``, ``brm.partner``, ``crm.contact``...), and any two records
can be linked by a typed, dated ``party.relationship``. See README.md for why. Uses only the
public plugin API.
"""

from __future__ import annotations

from xrm.core.plugins import PluginPackage

from . import demo_data
from .mirror import PartyLink, dispatch, parties_of, role_records, roles_of

__all__ = ["PartyLink", "dispatch", "parties_of", "role_records", "roles_of"]

VERSION = "1.0.0"


PARTY = ("party.organization", "party.person", "party.relationship")


EVERY = ["read", "create", "update", "delete", "import", "export"]
ROLES = [
    {
        "name": "Master Data Steward",
        "permissions": {e: EVERY for e in PARTY},
        "scopes": {e: "all" for e in PARTY},
    },
    {
        "name": "Directory User",
        "permissions": {e: ["read", "create", "update"] for e in PARTY},
        "scopes": {e: "all" for e in PARTY},
    },
]


MENUS = [
    {
        "name": "party",
        "label": "Directory",
        "order": 5,
        "items": [
            {"entity": "party.organization"},
            {"entity": "party.person"},
            {"entity": "party.relationship"},
            {"view": "party.organizations_by_country"},
            {"dashboard": "party.directory"},
        ],
    }
]


VIEWS = [
    {
        "name": "party.organizations_by_country",
        "entity": "party.organization",
        "label": "Organisations by country",
        "kind": "list",
        "columns": ["number", "name", "industry", "city", "country"],
        "query": "order=country,name",
        "groupBy": "country",
    },
    {
        "name": "party.people_by_organization",
        "entity": "party.person",
        "label": "People by organisation",
        "kind": "list",
        "columns": ["last_name", "first_name", "organization", "job_title", "email"],
        "query": "order=organization,last_name",
        "groupBy": "organization",
    },
]


DASHBOARDS = [
    {
        "name": "party.directory",
        "label": "Directory",
        "charts": [
            {
                "type": "number",
                "title": "Organisations",
                "entity": "party.organization",
                "measure": "count",
            },
            {"type": "number", "title": "People", "entity": "party.person", "measure": "count"},
            {
                "type": "pie",
                "title": "Organisations by industry",
                "entity": "party.organization",
                "groupBy": "industry",
                "measure": "count",
            },
            {
                "type": "bar",
                "title": "Relationships by type",
                "entity": "party.relationship",
                "groupBy": "relationship_type",
                "measure": "count",
            },
        ],
    }
]


PluginPackage(
    __package__,
    {"name": "party", "label": "Organisations and people", "version": VERSION},
    roles=ROLES,
    menus=MENUS,
    views=VIEWS,
    dashboards=DASHBOARDS,
    demo_data=demo_data.load,
).export(globals())
