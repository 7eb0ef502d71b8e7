"""Business partner relationship management: partners (resellers, distributors, service
partners) with tiers, partner agreements, deal registration with a conflict check, partner
performance, and the customer-company-partner triangle (opportunities and accounts reference
partners; approved registrations are recorded as party relationships).

Partners are the partner role of the shared party model (``xrm_party``); deals and customers
come from the CRM plugin. Uses only the public plugin API (and the plugins it requires).
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
@concerns(ROLE_ENTITIES, "brm.deal_registration")
def xrm_before_create(event):
    dispatch(lifecycle.LINKS, "before_create", event)
    lifecycle.before_create(event)


@hookimpl
@concerns(ROLE_ENTITIES)
def xrm_before_update(event):
    dispatch(lifecycle.LINKS, "before_update", event)


@hookimpl
@concerns(ROLE_ENTITIES, PARTY_ENTITIES)
def xrm_after_update(event):
    dispatch(lifecycle.LINKS, "after_update", event)
    dispatch(lifecycle.LINKS, "party_updated", event)


@hookimpl
@concerns("brm.deal_registration")
def xrm_before_transition(event):
    lifecycle.conflict_check(event)


@hookimpl
@concerns("brm.deal_registration", "crm.opportunity")
def xrm_after_transition(event):
    lifecycle.record_triangle(event)
    lifecycle.close_registration(event)


PluginPackage(
    __package__,
    {"name": "brm", "label": "Business partners", "version": VERSION, "requires": ["party", "crm"]},
    extensions=navigation.EXTENSIONS,
    roles=navigation.ROLES,
    menus=navigation.MENUS,
    views=navigation.VIEWS,
    dashboards=navigation.DASHBOARDS,
    demo_data=demo_data.load,
).export(globals())
