"""The admin pages: one Flask-AppBuilder view whose routes render page shells.

Each page is a template plus a script under ``static/``; the data comes from the REST API, so
these handlers only decide who may see the page and which script runs. Names from the URL are
handed to the page as JSON (``tojson``), never pasted into markup or scripts.
"""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask_appbuilder import BaseView, expose

from ..ui.pages import render_page, ui_page

#: (menu label, path under /admin/, Font Awesome icon)
MENU = (
    ("Entities", "entities", "fa-database"),
    ("Workflows", "workflows", "fa-project-diagram"),
    ("Rule sets", "rules", "fa-check-square"),
    ("Option sets", "option-sets", "fa-list-ul"),
    ("Permissions", "permissions", "fa-user-shield"),
    ("Plugins", "plugins", "fa-puzzle-piece"),
    ("Audit log", "audit", "fa-history"),
    ("Automation runs", "jobs", "fa-tasks"),
)


@ui_page
def _render(template: str, section: str, context: dict, ctx):
    if not ctx.actor.is_admin:
        abort(403, description="Only administrators may open the administration pages.")
    entity = context.get("entity")
    if entity and entity not in ctx.snapshot:
        abort(404, description=f"There is no entity {entity!r}.")
    return render_page(
        ctx,
        f"xrm_admin/{template}.html",
        page_title="Administration",
        section=section,
        admin_menu=MENU,
        page_data=context,
    )


class AdminPages(BaseView):
    """``/admin/...``: administrators only (others get 403, anonymous users the login page)."""

    route_base = "/admin"
    default_view = "entities"
    # Access is decided by the administrator role in _page, as the API decides it; FAB's
    # per-view permissions would need FAB's permission sync for every new page.
    base_permissions = []

    def _page(self, template: str, section: str, **context):
        # The shell of the generated UI (xrm.web.ui): its navbar, login redirect, error pages.
        return _render(template, section, context)

    @expose("/")
    def index(self):
        return redirect(url_for("AdminPages.entities"))

    @expose("/entities")
    def entities(self):
        return self._page("entities", "entities")

    @expose("/entities/new")
    def entity_new(self):
        return self._page("entity", "entities", entity=None)

    @expose("/entities/<name>")
    def entity(self, name: str):
        return self._page("entity", "entities", entity=name)

    @expose("/entities/<name>/history")
    def entity_history(self, name: str):
        return self._page("history", "entities", entity=name)

    @expose("/workflows")
    def workflows(self):
        return self._page("workflows", "workflows")

    @expose("/workflows/new")
    def workflow_new(self):
        return self._page("workflow", "workflows", workflow=None)

    @expose("/workflows/<name>")
    def workflow(self, name: str):
        return self._page("workflow", "workflows", workflow=name)

    @expose("/rules")
    def rules(self):
        return self._page("rules", "rules")

    @expose("/rules/new")
    def rules_new(self):
        return self._page("ruleset", "rules", rules=None)

    @expose("/rules/<name>")
    def ruleset(self, name: str):
        return self._page("ruleset", "rules", rules=name)

    @expose("/option-sets")
    def option_sets(self):
        return self._page("optionsets", "option-sets")

    @expose("/option-sets/new")
    def option_set_new(self):
        return self._page("optionset", "option-sets", optionSet=None)

    @expose("/option-sets/<name>")
    def option_set(self, name: str):
        return self._page("optionset", "option-sets", optionSet=name)

    @expose("/permissions")
    def permissions(self):
        return self._page("permissions", "permissions")

    @expose("/plugins")
    def plugins(self):
        return self._page("plugins", "plugins")

    @expose("/audit")
    def audit(self):
        return self._page("audit", "audit")

    @expose("/jobs")
    def jobs(self):
        return self._page("jobs", "jobs")
