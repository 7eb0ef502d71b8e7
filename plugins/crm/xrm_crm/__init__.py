"""CRM plugin: accounts, contacts, leads, opportunities, activities, campaigns and service cases.

Accounts and contacts are the customer role of the shared party model (``xrm_party``): each
account is one ``party.organization``, each contact one ``party.person``. Uses only the public
plugin API (and the party plugin it requires).
"""

from __future__ import annotations

from xrm_party import dispatch, parties_of, roles_of

from xrm.core.plugins import SYSTEM, PluginPackage, concerns, hookimpl, plugin_contributions

from . import demo_data, lifecycle, navigation
from .segments import add_segment_members

VERSION = "1.0.0"


def _add_segment_members(context, params, record):
    """Action ``crm.add_segment_members`` (run after commit by the jobs runner, retried until it
    succeeds): the campaign's segment becomes its members, in one transaction of its own.
    Idempotent: members already in the campaign are kept, so a retry adds nobody twice."""
    if record is None:
        return {"added": 0}
    views = [view for _plugin, view in plugin_contributions(context.plugins, "xrm_views")]
    with context.engine.begin() as conn:
        added = add_segment_members(
            context.records, conn, SYSTEM, record, views, status=params.get("status", "targeted")
        )
    context.step(f"added {added} member(s) to campaign {record.get('number')}")
    return {"added": added}


@hookimpl
def xrm_action_types():
    return [
        {
            "name": "crm.add_segment_members",
            "doc": "Add every contact of the campaign's segment (shared view or query) as a member",
            "params": {"status": {"type": "string", "enum": ["targeted", "sent"]}},
            "required": [],
            "run": _add_segment_members,
        }
    ]


# Each record hook says which entities it acts on (concerns): a bulk update of any other
# entity then runs set-based, with no plugin code per record.
ROLE_ENTITIES = roles_of(lifecycle.LINKS)
PARTY_ENTITIES = parties_of(lifecycle.LINKS)


@hookimpl
@concerns(ROLE_ENTITIES, "crm.contact", "crm.opportunity")
def xrm_before_create(event):
    dispatch(lifecycle.LINKS, "before_create", event)
    lifecycle.before_create(event)


@hookimpl
@concerns("crm.contact")
def xrm_after_create(event):
    lifecycle.after_create(event)


@hookimpl
@concerns(ROLE_ENTITIES)
def xrm_before_update(event):
    dispatch(lifecycle.LINKS, "before_update", event)


@hookimpl
@concerns(ROLE_ENTITIES, PARTY_ENTITIES)
def xrm_after_update(event):
    dispatch(lifecycle.LINKS, "after_update", event)
    dispatch(lifecycle.LINKS, "party_updated", event)


PluginPackage(
    __package__,
    {"name": "crm", "label": "Customer relationships", "version": VERSION, "requires": ["party"]},
    roles=navigation.ROLES,
    menus=navigation.MENUS,
    views=navigation.VIEWS,
    dashboards=navigation.DASHBOARDS,
    demo_data=demo_data.load,
).export(globals())
