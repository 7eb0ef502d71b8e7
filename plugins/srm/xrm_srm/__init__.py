"""Stakeholder relationship management: stakeholders of every kind with a power/interest
classification and the engagement strategy it implies, engagements, concerns with a resolution
workflow, and shareholdings.

A stakeholder is an organisation or a person of the shared party model (``xrm_party``), so a
customer or supplier that is also a shareholder is still one organisation. Uses only the public
plugin API (and the party plugin it requires).
"""

from __future__ import annotations

from xrm_party import dispatch, parties_of, roles_of

from xrm.core.plugins import PluginPackage, concerns, hookimpl

from . import demo_data, lifecycle, navigation

VERSION = "1.0.0"


# Each record hook says which entities it acts on (concerns): a bulk update of any other
# entity then runs set-based, with no plugin code per record.
ROLE_ENTITIES = roles_of(lifecycle.LINKS)
PARTY_ENTITIES = parties_of(lifecycle.LINKS)


@hookimpl
@concerns(ROLE_ENTITIES, "srm.stakeholder", "srm.shareholding")
def xrm_before_create(event):
    dispatch(lifecycle.LINKS, "before_create", event)
    lifecycle.before_create(event)


@hookimpl
@concerns("srm.engagement")
def xrm_after_create(event):
    lifecycle.engagement_written(event)


@hookimpl
@concerns(ROLE_ENTITIES, "srm.stakeholder")
def xrm_before_update(event):
    dispatch(lifecycle.LINKS, "before_update", event)
    lifecycle.before_update(event)


@hookimpl
@concerns(ROLE_ENTITIES, PARTY_ENTITIES, "party.person", "srm.engagement")
def xrm_after_update(event):
    dispatch(lifecycle.LINKS, "after_update", event)
    dispatch(lifecycle.LINKS, "party_updated", event)
    lifecycle.person_updated(event)
    lifecycle.engagement_written(event)


PluginPackage(
    __package__,
    {"name": "srm", "label": "Stakeholders", "version": VERSION, "requires": ["party"]},
    roles=navigation.ROLES,
    menus=navigation.MENUS,
    views=navigation.VIEWS,
    dashboards=navigation.DASHBOARDS,
    demo_data=demo_data.load,
).export(globals())
