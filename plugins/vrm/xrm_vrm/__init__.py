"""Supplier (vendor) relationship management: suppliers, their contacts, agreements with renewal
reminders, weighted evaluations with an A/B/C rating, onboarding and incidents.

Suppliers are the supplier role of the shared party model (``xrm_party``): each supplier is one
``party.organization``, so a customer can be a supplier too without a second record. Uses only
the public plugin API (and the party plugin it requires).
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
@concerns(ROLE_ENTITIES, "vrm.agreement", "vrm.evaluation")
def xrm_before_create(event):
    dispatch(lifecycle.LINKS, "before_create", event)
    lifecycle.before_create(event)


@hookimpl
@concerns("vrm.evaluation")
def xrm_after_create(event):
    lifecycle.evaluation_written(event)


@hookimpl
@concerns(ROLE_ENTITIES)
def xrm_before_update(event):
    dispatch(lifecycle.LINKS, "before_update", event)


@hookimpl
@concerns(ROLE_ENTITIES, PARTY_ENTITIES, "vrm.evaluation")
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
