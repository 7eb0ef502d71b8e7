"""Supplier (vendor) relationship management: suppliers, their contacts, agreements with renewal
reminders, weighted evaluations with an A/B/C rating, onboarding and incidents.

Suppliers are the supplier role of the shared party model (``xrm_party``): each supplier is one
``party.organization``, so a customer can be a supplier too without a second record. Uses only
the public plugin API (and the party plugin it requires).
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
    lifecycle.evaluation_written(event)


@hookimpl
def xrm_before_update(event):
    dispatch(lifecycle.LINKS, "before_update", event)


@hookimpl
def xrm_after_update(event):
    dispatch(lifecycle.LINKS, "after_update", event)
    dispatch(lifecycle.LINKS, "party_updated", event)
    lifecycle.evaluation_written(event)


PluginPackage(
    __package__,
    {"name": "vrm", "label": "Suppliers", "version": VERSION, "requires": ["party"]},
    roles=navigation.ROLES,
    menus=navigation.MENUS,
    views=navigation.VIEWS,
    dashboards=navigation.DASHBOARDS,
    demo_data=demo_data.load,
).export(globals())
