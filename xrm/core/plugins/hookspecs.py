"""The plugin API: every hook a plugin can implement, in one module.

A plugin is a module or object with functions named after these specs and decorated with
``xrm.hookimpl``; it is found through the entry-point group ``xrm.plugins`` (the entry-point
name is the plugin's name). Each hook has its own test in ``tests/plugins/test_hookspecs.py``;
a hook without a test fails the suite.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("xrm")
hookimpl = pluggy.HookimplMarker("xrm")


@hookspec
def xrm_plugin_info() -> dict[str, Any]:
    """Describe the plugin: ``{"name": "crm", "label": "CRM", "version": "1.0",
    "requires": ["party"]}``. ``requires`` lists plugins whose entities this one references.

    Example::

        @hookimpl
        def xrm_plugin_info():
            return {"name": "crm", "label": "Customer relationships", "version": "1.0.0"}
    """


@hookspec
def xrm_entity_definitions() -> list[dict[str, Any]]:
    """Return the entity definition documents this plugin owns (JSON Schema + ``x-xrm``).

    They become the entities' base layer, owned by this plugin; installing or upgrading the
    plugin plans and applies them like any other definition change. Use
    :func:`xrm.core.plugins.load_json_documents` to ship them as JSON files in the package.

    Example::

        @hookimpl
        def xrm_entity_definitions():
            return load_json_documents(__package__, "entities")
    """


@hookspec
def xrm_entity_extensions() -> list[dict[str, Any]]:
    """Add fields to entities other plugins own. Each item is
    ``{"entity": "crm.account", "properties": {...}, "required": [...]}``; it becomes the
    ``ext:<plugin>`` layer of that entity and survives upgrades of the owning plugin.

    Example::

        @hookimpl
        def xrm_entity_extensions():
            return [{"entity": "crm.account",
                     "properties": {"supplier_rating": {"enum": ["A", "B", "C"]}}}]
    """


@hookspec
def xrm_option_sets() -> list[dict[str, Any]]:
    """Return reusable option sets (shared lists of choices) that this plugin's fields use with
    ``"x-xrm": {"optionSet": "<name>"}``. Installed with the plugin's definitions.

    Example::

        @hookimpl
        def xrm_option_sets():
            return [{"name": "crm.industry", "label": "Industry",
                     "options": [{"value": "retail", "label": "Retail"}]}]
    """


@hookspec
def xrm_before_create(event: Any) -> None:
    """Before a record is created, inside its transaction (after validation, before SQL).

    ``event`` is a :class:`xrm.core.records.events.RecordEvent`; change ``event.values`` to
    adjust what is written, or raise ``RecordVetoed("message", field=...)`` to refuse.

    Example::

        @hookimpl
        def xrm_before_create(event):
            if event.entity == "crm.contact" and event.actor.username == "intern":
                raise RecordVetoed("interns may not create contacts")
    """


@hookspec
def xrm_after_create(event: Any) -> None:
    """After a record is created, in the same transaction (``event.after`` is the stored record;
    None after a delete). Raising rolls the whole write back.

    Example::

        @hookimpl
        def xrm_after_create(event):
            log.info("%s %s created by %s", event.entity, event.record_id, event.actor.username)
    """


@hookspec
def xrm_before_update(event: Any) -> None:
    """Before a record is updated, inside its transaction (after validation, before SQL).

    ``event`` is a :class:`xrm.core.records.events.RecordEvent`; change ``event.values`` to
    adjust what is written, or raise ``RecordVetoed("message", field=...)`` to refuse.

    Example::

        @hookimpl
        def xrm_before_update(event):
            if event.entity == "crm.contact" and event.actor.username == "intern":
                raise RecordVetoed("interns may not update contacts")
    """


@hookspec
def xrm_after_update(event: Any) -> None:
    """After a record is updated, in the same transaction (``event.after`` is the stored record;
    None after a delete). Raising rolls the whole write back.

    Example::

        @hookimpl
        def xrm_after_update(event):
            log.info("%s %s updated by %s", event.entity, event.record_id, event.actor.username)
    """


@hookspec
def xrm_before_delete(event: Any) -> None:
    """Before a record is deleted, inside its transaction (after validation, before SQL).

    ``event`` is a :class:`xrm.core.records.events.RecordEvent`; change ``event.values`` to
    adjust what is written, or raise ``RecordVetoed("message", field=...)`` to refuse.

    Example::

        @hookimpl
        def xrm_before_delete(event):
            if event.entity == "crm.contact" and event.actor.username == "intern":
                raise RecordVetoed("interns may not delete contacts")
    """


@hookspec
def xrm_after_delete(event: Any) -> None:
    """After a record is deleted, in the same transaction (``event.after`` is the stored record;
    None after a delete). Raising rolls the whole write back.

    Example::

        @hookimpl
        def xrm_after_delete(event):
            log.info("%s %s deleted by %s", event.entity, event.record_id, event.actor.username)
    """


@hookspec
def xrm_app_ready(app: Any) -> None:
    """Called once the application is built (plugins loaded, metadata installed).

    Example::

        @hookimpl
        def xrm_app_ready(app):
            app.logger.info("crm plugin ready")
    """
