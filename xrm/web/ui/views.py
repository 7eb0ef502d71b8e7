"""Flask-AppBuilder views of the end-user UI. A fixed set of generic pages: the entity is a URL
parameter checked against the current snapshot, so an entity applied at run time has its list,
form, record page and board at once, without a restart."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose
from werkzeug.exceptions import HTTPException

from . import catalog, savedviews
from .context import LoginRequired, PageContext, page_context
from .model import entity_model
from .pages import render_page, ui_page


class HomeView(IndexView):
    """``/``: the entities and dashboards the user may open (the login page for visitors)."""

    @expose("/")
    def index(self):
        return _home()


@ui_page
def _home(ctx):
    p = current_app.extensions["xrm"]
    dashboards = [
        d
        for d in catalog.dashboards(p.plugins).values()
        if catalog.dashboard_visible(d, ctx.snapshot, ctx.access)
    ]
    return render_page(ctx, "xrm/ui/home.html", dashboards=dashboards)


def workflows_of(entity: str) -> list[dict]:
    """Every workflow bound to ``entity``, by name (one per state field; the runtime's catalog
    when the workflow service is there, else the documents plugins ship), in the shape the
    pages use."""
    p = current_app.extensions["xrm"]
    service = getattr(p, "workflows", None)
    if service is None:
        return catalog.workflows_for(p.plugins, entity)
    with p.engine.connect() as conn:
        compiled = service.catalog(conn).workflows_of(entity)
    return [
        {
            "name": wf.name,
            "label": getattr(wf.definition, "label", None) or wf.name,
            "stateField": wf.state_field,
            "states": [
                {"name": s.name, "label": s.label, "color": s.colour, "final": s.final}
                for s in wf.definition.states
            ],
        }
        for wf in compiled
    ]


def _routed(path: str, method: str) -> bool:
    """Whether the application serves ``method path`` (endpoints other parts may add)."""
    try:
        current_app.url_map.bind("localhost").match(path, method=method)
        return True
    except HTTPException:
        return False


def _config(ctx: PageContext, entity: str, **extra: Any) -> dict:
    ce = ctx.entity(entity)
    return {
        "endpoints": {
            "formState": _routed(f"/api/v1/data/{entity}/form-state", "POST"),
            "transitions": _routed(f"/api/v1/data/{entity}/1/transitions", "GET"),
        },
        "apiBase": url_for("xrm_api.list_records", entity="_").rsplit("/data/", 1)[0],
        "uiBase": request.script_root + EntityPages.route_base,
        "entity": entity,
        "model": entity_model(ctx.snapshot, ctx.access, ce, workflows_of(entity)),
        "user": {
            "id": ctx.actor.user_id,
            "username": ctx.actor.username,
            "admin": ctx.actor.is_admin,
        },
        **extra,
    }


class EntityPages(BaseView):
    """List, board, record, create and edit pages of any entity."""

    route_base = "/ui"
    default_view = "list"

    @expose("/<entity>/")
    @ui_page
    def list(self, entity: str, ctx: PageContext):
        view = request.args.get("view")
        config = _config(ctx, entity, view=view, savedViews=savedviews.available(ctx, entity))
        label = config["model"]["labelPlural"]
        return render_page(ctx, "xrm/ui/list.html", page_title=label, page_config=config)

    @expose("/<entity>/board")
    @ui_page
    def board(self, entity: str, ctx: PageContext):
        config = _config(
            ctx, entity, groupBy=request.args.get("group"), query=request.args.get("q", "")
        )
        label = config["model"]["labelPlural"]
        return render_page(ctx, "xrm/ui/board.html", page_title=label, page_config=config)

    @expose("/<entity>/new")
    @ui_page
    def new(self, entity: str, ctx: PageContext):
        ctx.entity(entity)
        ctx.entity(entity, "create")
        config = _config(ctx, entity, recordId=None, mode="create")
        title = f"New {config['model']['label']}"
        return render_page(ctx, "xrm/ui/form.html", page_title=title, page_config=config)

    @expose("/<entity>/<int:record_id>")
    @ui_page
    def record(self, entity: str, record_id: int, ctx: PageContext):
        config = _config(ctx, entity, recordId=record_id)
        title = config["model"]["label"]
        return render_page(ctx, "xrm/ui/record.html", page_title=title, page_config=config)

    @expose("/<entity>/<int:record_id>/edit")
    @ui_page
    def edit(self, entity: str, record_id: int, ctx: PageContext):
        ctx.entity(entity)
        ctx.entity(entity, "update")
        config = _config(ctx, entity, recordId=record_id, mode="edit")
        title = f"Edit {config['model']['label']}"
        return render_page(ctx, "xrm/ui/form.html", page_title=title, page_config=config)

    @expose("/<entity>/form-spec")
    def form_spec(self, entity: str):
        """The entity's UI model for this user, as JSON (lookups and related lists use it)."""
        try:
            ctx = page_context()
        except LoginRequired:
            abort(401)
        ce = ctx.entity(entity)
        return jsonify(entity_model(ctx.snapshot, ctx.access, ce, workflows_of(entity)))

    @expose("/views/<name>")
    @ui_page
    def saved_view(self, name: str, ctx: PageContext):
        """A plugin's shared view by name: its list or board."""
        view = catalog.plugin_views(current_app.extensions["xrm"].plugins).get(name)
        if view is None:
            abort(404, description=f"There is no view {name!r}.")
        ctx.entity(view["entity"])
        if view.get("kind") == "kanban":
            return redirect(
                url_for(
                    "EntityPages.board",
                    entity=view["entity"],
                    group=view.get("groupBy"),
                    q=view.get("query", ""),
                )
            )
        return redirect(url_for("EntityPages.list", entity=view["entity"], view=f"plugin:{name}"))


class DashboardPages(BaseView):
    """Dashboards declared by plugins (``xrm_dashboards``)."""

    route_base = "/ui/dashboards"
    default_view = "show"

    @expose("/<name>")
    @ui_page
    def show(self, name: str, ctx: PageContext):
        doc = catalog.dashboards(current_app.extensions["xrm"].plugins).get(name)
        if doc is None:
            abort(404, description=f"There is no dashboard {name!r}.")
        if not catalog.dashboard_visible(doc, ctx.snapshot, ctx.access):
            abort(403, description=f"You may not read the data of the dashboard {name!r}.")
        charts = [
            c
            for c in doc.get("charts", ())
            if isinstance(c, dict)
            and c.get("entity") in ctx.snapshot
            and ctx.access.can(c["entity"], "read")
        ]
        config = {
            "apiBase": url_for("xrm_api.list_records", entity="_").rsplit("/data/", 1)[0],
            "uiBase": request.script_root + EntityPages.route_base,
            "dashboard": {**doc, "charts": charts},
        }
        return render_page(
            ctx, "xrm/ui/dashboard.html", page_title=doc.get("label") or name, page_config=config
        )
