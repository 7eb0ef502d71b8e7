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
    "requires": ["party>=1.0"]}``. ``version`` is a PEP 440 version (recorded on install);
    ``requires`` lists plugins whose entities this one references, each with an optional PEP 440
    constraint. Plugins are loaded, installed and called in dependency order; a missing,
    circular or unsatisfied requirement stops the start with the plugin's name.

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
    :func:`xrm.core.plugins.load_json_documents` to ship them as JSON files in the package, or
    :class:`xrm.core.plugins.PluginPackage`, which builds this and the other data hooks.

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

    ``event`` is a :class:`xrm.core.plugins.RecordEvent`; change ``event.values`` to
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

    ``event`` is a :class:`xrm.core.plugins.RecordEvent`; change ``event.values`` to
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

    ``event`` is a :class:`xrm.core.plugins.RecordEvent`; change ``event.values`` to
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


# --- Workflows, rules and automations -------------------------------------------------------


@hookspec
def xrm_workflows() -> list[dict[str, Any]]:
    """Return workflow documents (format: ``docs/workflows.md``, meta-schema
    ``xrm/workflow/schemas/workflow.schema.json``). Installed and verified with the plugin;
    an administrator's later edits are a version of their own.

    Example::

        @hookimpl
        def xrm_workflows():
            return load_json_documents(__package__, "workflows")
    """


@hookspec
def xrm_rules() -> list[dict[str, Any]]:
    """Return rule-set documents (validation rules, computed fields, defaults, roll-ups, form
    rules, automations; meta-schema ``xrm/workflow/schemas/rules.schema.json``).

    Example::

        @hookimpl
        def xrm_rules():
            return load_json_documents(__package__, "rules")
    """


@hookspec
def xrm_action_types() -> list[Any]:
    """Register custom action types that workflows and automations may use. Each item is a
    mapping ``{"name": "crm.sendQuote", "doc": "...", "params": {name: JSON Schema},
    "required": [...], "run": callable(context, params, record)}``; ``run`` executes after commit
    through the outbox (retried, idempotent by key).

    Example::

        @hookimpl
        def xrm_action_types():
            return [{"name": "crm.sendQuote", "doc": "E-mail the quote PDF",
                     "params": {"template": {"type": "string"}}, "required": ["template"],
                     "run": send_quote}]
    """


@hookspec
def xrm_cel_functions() -> list[Any]:
    """Add functions to the expression language (guards, rules, formulas). Each item is a
    :class:`xrm.core.plugins.CelFunction` (name, typed overloads, style, Python ``impl``),
    usually made with :func:`xrm.core.plugins.cel_function`; the type checker knows it like a
    built-in.

    Example::

        @hookimpl
        def xrm_cel_functions():
            return [cel_function("vatRate", ["string"], "double", impl=lambda c: 0.19)]
    """


@hookspec
def xrm_before_transition(event: Any) -> None:
    """Before a workflow transition is applied, inside its transaction (guard already passed).
    ``event`` is a :class:`xrm.core.plugins.RecordEvent` whose ``transition`` names the
    transition; raise ``RecordVetoed("message")`` to refuse it.

    Example::

        @hookimpl
        def xrm_before_transition(event):
            if event.transition == "win" and not event.before.get("po_number"):
                raise RecordVetoed("a won deal needs a purchase order", field="po_number")
    """


@hookspec
def xrm_after_transition(event: Any) -> None:
    """After a workflow transition was applied, in the same transaction (``event.after`` is the
    stored record). Raising rolls the transition back. ``event.fire(entity, id, transition)``
    takes a transition on another record in the same transaction (e.g. a registration that
    follows its opportunity to won).

    Example::

        @hookimpl
        def xrm_after_transition(event):
            log.info("%s %s: %s", event.entity, event.record_id, event.transition)
    """


# --- Security, navigation, views and dashboards ---------------------------------------------


@hookspec
def xrm_default_roles() -> list[dict[str, Any]]:
    """Roles the plugin needs, created (never overwritten) on install:
    ``{"name": "Sales Rep", "permissions": {"crm.lead": ["read", "create", "update"]},
    "scopes": {"crm.lead": "own"}}``. Actions: read, create, update, delete, import, export;
    scopes: own, team, all.

    Example::

        @hookimpl
        def xrm_default_roles():
            return [{"name": "Sales Manager",
                     "permissions": {"crm.opportunity": ["read", "update"]},
                     "scopes": {"crm.opportunity": "team"}}]
    """


@hookspec
def xrm_menus() -> list[dict[str, Any]]:
    """Menu groups for the generated UI: ``{"name": "crm", "label": "Sales", "order": 10,
    "items": [{"entity": "crm.lead"}, {"dashboard": "crm.pipeline"}, {"view": "crm.my_open"}]}``.
    Items the user may not read are hidden.

    Example::

        @hookimpl
        def xrm_menus():
            return [{"name": "crm", "label": "Sales", "items": [{"entity": "crm.account"}]}]
    """


@hookspec
def xrm_views() -> list[dict[str, Any]]:
    """Shared saved views: ``{"name": "crm.open_opportunities", "entity": "crm.opportunity",
    "label": "Open opportunities", "kind": "list" | "kanban", "columns": [...],
    "query": "stage=in.(new,proposal)&order=amount.desc", "groupBy": "stage"}`` (query in the
    REST grammar of ``docs/api.md``).

    Example::

        @hookimpl
        def xrm_views():
            return [{"name": "crm.pipeline_board", "entity": "crm.opportunity",
                     "label": "Pipeline", "kind": "kanban", "groupBy": "stage"}]
    """


@hookspec
def xrm_dashboards() -> list[dict[str, Any]]:
    """Dashboards of charts declared as data: ``{"name": "crm.sales", "label": "Sales",
    "charts": [{"type": "funnel" | "bar" | "line" | "pie" | "number" | "pareto", "title": "...",
    "entity": "crm.opportunity", "groupBy": "stage", "measure": "sum:amount" | "count",
    "query": "status=eq.open"}]}``. ``pareto`` classifies groups A/B/C by cumulative share.

    Example::

        @hookimpl
        def xrm_dashboards():
            return [{"name": "crm.sales", "label": "Sales", "charts": [
                {"type": "funnel", "title": "Pipeline", "entity": "crm.opportunity",
                 "groupBy": "stage", "measure": "sum:amount"}]}]
    """


# --- Data -------------------------------------------------------------------------------------


@hookspec
def xrm_demo_data(context: Any) -> None:
    """Load the plugin's demo data through ``context.records`` (the record service) on
    ``context.conn`` as ``context.actor``; ``context.random`` is a seeded ``random.Random`` so
    the data is the same on every run. ``context`` is a :class:`xrm.core.plugins.DemoContext`;
    its ``ensure_user``, ``ensure_role`` and ``ensure_team`` make the colleagues who own the
    records. Called in dependency order by ``xrm demo``.

    Example::

        @hookimpl
        def xrm_demo_data(context):
            for i in range(300):
                context.records.create(context.conn, context.actor, "crm.account",
                                       {"name": f"Account {i}"})
    """


@hookspec
def xrm_data_migrations() -> list[dict[str, Any]]:
    """Data migrations between plugin versions: ``{"version": "1.1.0", "description": "...",
    "run": callable(context)}``. On upgrade from an older installed version, every migration
    with ``installed < version <= new`` runs in version order, in the upgrade's transaction,
    after the definitions are applied (on a first install: every one up to the plugin's
    version). ``run`` receives a :class:`xrm.core.plugins.DataMigrationContext`.

    Example::

        @hookimpl
        def xrm_data_migrations():
            return [{"version": "1.1.0", "description": "split full names",
                     "run": split_full_names}]
    """
