"""The saved views a list page offers: plugin views, shared views and the user's own."""

from __future__ import annotations

from flask import current_app

from ...core import views as saved
from ..api.views import plugin_views
from .context import PageContext


def available(ctx: PageContext, entity: str) -> list[dict]:
    p = current_app.extensions["xrm"]
    with p.engine.connect() as conn:
        own = saved.list_views(conn, ctx.actor, ctx.access, entity)
    return plugin_views(p.plugins, ctx.snapshot, ctx.access, entity) + own
