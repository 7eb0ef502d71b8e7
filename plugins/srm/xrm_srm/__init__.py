"""Stakeholder relationship management: stakeholders of every kind with a power/interest
classification and the engagement strategy it implies, engagements, concerns with a resolution
workflow, and shareholdings.

A stakeholder is an organisation or a person of the shared party model (``xrm_party``), so a
customer or supplier that is also a shareholder is still one organisation. Uses only the public
plugin API (and the party plugin it requires).
"""

from __future__ import annotations

from xrm_party import dispatch

from xrm.core.plugins import PluginPackage, hookimpl

from . import demo_data, lifecycle, navigation

VERSION = "1.0.0"


@hookimpl
def xrm_before_create(event):
    dispatch(lifecycle.LINKS, "before_create", event)
    lifecycle.before_create(event)


@hookimpl
def xrm_after_create(event):
    lifecycle.engagement_written(event)


@hookimpl
def xrm_before_update(event):
    dispatch(lifecycle.LINKS, "before_update", event)
    lifecycle.before_update(event)


@hookimpl
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
