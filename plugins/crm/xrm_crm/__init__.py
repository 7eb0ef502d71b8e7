"""CRM plugin: accounts and contacts (leads, opportunities, activities, campaigns and cases
follow in the relationship-models issue). Uses only the public plugin API."""

from xrm.core.plugins import hookimpl, load_json_documents


@hookimpl
def xrm_plugin_info():
    return {"name": "crm", "label": "Customer relationships", "version": "0.1.0"}


@hookimpl
def xrm_entity_definitions():
    return load_json_documents(__package__, "entities")
