"""Rendering helpers shared by the UI views: the page decorator (login redirect, error pages)
and the common template context (per-request menu, CSRF token, page configuration)."""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app, render_template, url_for
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException

from .context import LoginRequired, PageContext, login_redirect, page_context
from .menu import build_menu


def menu_url(kind: str, key: str) -> str:
    if kind == "entity":
        return url_for("EntityPages.list", entity=key)
    if kind == "dashboard":
        return url_for("DashboardPages.show", name=key)
    return url_for("EntityPages.saved_view", name=key)


def render_page(ctx: PageContext | None, template: str, status: int = 200, **kwargs: Any):
    """Render ``template`` inside the base layout with the per-request menu."""
    p = current_app.extensions["xrm"]
    menu = build_menu(p.plugins, ctx.snapshot, ctx.access, menu_url) if ctx else []
    body = render_template(
        template,
        appbuilder=current_app.appbuilder,
        base_template="xrm/ui/base.html",
        xrm_menu=menu,
        xrm_actor=ctx.actor if ctx else None,
        csrf_token_value=generate_csrf(),
        **kwargs,
    )
    return body, status


def ui_page(fn):
    """Build the page context, send anonymous visitors to the login page and render HTTP
    errors (403, 404...) as pages of the layout."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = None
        try:
            ctx = page_context()
            return fn(*args, ctx=ctx, **kwargs)
        except LoginRequired:
            return login_redirect()
        except HTTPException as exc:
            return render_page(
                ctx,
                "xrm/ui/error.html",
                status=exc.code or 500,
                error_code=exc.code,
                error_title=exc.name,
                error_detail=exc.description,
            )

    return wrapper
