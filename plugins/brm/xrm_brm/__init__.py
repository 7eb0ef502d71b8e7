"""Business partner relationship management: partners (resellers, distributors, service
partners) with tiers, partner agreements, deal registration with a conflict check, partner
performance, and the customer-company-partner triangle (opportunities and accounts reference
partners; approved registrations are recorded as party relationships).

Partners are the partner role of the shared party model (``xrm_party``); deals and customers
come from the CRM plugin. Uses only the public plugin API (and the plugins it requires).
"""

from __future__ import annotations

from xrm_party import dispatch

from xrm.core.plugins import hookimpl, load_json_documents

from . import demo_data, lifecycle, navigation

VERSION = "1.0.0"


@hookimpl
def xrm_plugin_info():
    return {
        "name": "brm",
        "label": "Business partners",
        "version": VERSION,
        "requires": ["party", "crm"],
    }


@hookimpl
def xrm_entity_definitions():
    return load_json_documents(__package__, "entities")


@hookimpl
def xrm_entity_extensions():
    return navigation.EXTENSIONS


@hookimpl
def xrm_option_sets():
    return load_json_documents(__package__, "option_sets")


@hookimpl
def xrm_workflows():
    return load_json_documents(__package__, "workflows")


@hookimpl
def xrm_rules():
    return load_json_documents(__package__, "rules")


@hookimpl
def xrm_before_create(event):
    dispatch(lifecycle.LINKS, "before_create", event)
    lifecycle.before_create(event)


@hookimpl
def xrm_before_update(event):
    dispatch(lifecycle.LINKS, "before_update", event)


@hookimpl
def xrm_after_update(event):
    dispatch(lifecycle.LINKS, "after_update", event)
    dispatch(lifecycle.LINKS, "party_updated", event)


@hookimpl
def xrm_before_transition(event):
    lifecycle.conflict_check(event)


@hookimpl
def xrm_after_transition(event):
    lifecycle.record_triangle(event)


@hookimpl
def xrm_default_roles():
    return navigation.ROLES


@hookimpl
def xrm_menus():
    return navigation.MENUS


@hookimpl
def xrm_views():
    return navigation.VIEWS


@hookimpl
def xrm_dashboards():
    return navigation.DASHBOARDS


@hookimpl
def xrm_demo_data(context):
    demo_data.load(context)
