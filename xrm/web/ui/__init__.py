"""The generated end-user UI: Flask-AppBuilder views whose pages are rendered from the current
metadata snapshot (menu, lists, forms, record pages, boards, dashboards). See docs/ui.md."""

from __future__ import annotations

from flask import Blueprint, Flask

#: Templates (``xrm/ui/*.html``) and static files (``/ui/static/xrm/...``), served locally.
assets = Blueprint(
    "xrm_ui",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui/static",
)


def register_ui(app: Flask) -> None:
    """Register the UI views on the application's Flask-AppBuilder (the index view ``/`` is
    :class:`~.views.HomeView`, configured as ``FAB_INDEX_VIEW``)."""
    from ...core import views as saved_views
    from .views import DashboardPages, EntityPages

    with app.extensions["xrm"].engine.begin() as conn:
        saved_views.install(conn)
    app.register_blueprint(assets)
    appbuilder = app.appbuilder
    with app.app_context():
        appbuilder.add_view_no_menu(EntityPages())
        appbuilder.add_view_no_menu(DashboardPages())
    app.add_url_rule("/favicon.ico", "xrm_favicon", _favicon)


def _favicon():
    return assets.send_static_file("xrm/favicon.svg")
