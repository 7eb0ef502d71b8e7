"""The administrator UI: designers for entities and workflows, the permissions matrix, and the
plugins, audit and automation pages.

Pages are Flask-AppBuilder views (its login, navbar and Bootstrap theme) that render a small
shell; the page scripts talk to the public REST API (``/api/v1/meta/...``,
``/api/v1/admin/...``) with the session cookie and the CSRF token, so the UI can do nothing
the API would not allow, and every stored value reaches the page as JSON that the scripts
insert as text (never as HTML).
"""

from __future__ import annotations

from flask import Blueprint, Flask

#: Templates (``xrm_admin/*.html``) and static files (``/admin/assets/...``) of the admin UI.
assets = Blueprint(
    "xrm_admin_assets",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/admin/assets",
)


def register_admin(app: Flask) -> None:
    """Add the admin pages to the FAB app and its "Administration" menu."""
    from .views import MENU, AdminPages

    app.register_blueprint(assets)
    appbuilder = app.appbuilder
    with app.app_context():  # FAB registers blueprints on current_app
        view = appbuilder.add_view_no_menu(AdminPages())
        for label, endpoint, icon in MENU:
            appbuilder.add_link(
                label,
                href=f"/admin/{endpoint}",
                icon=icon,
                category="Administration",
                category_icon="fa-cogs",
                baseview=view,
            )
