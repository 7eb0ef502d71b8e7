"""The caller's in-app inbox: notifications sent to them by workflows and automations."""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import NotFound

from ...core.jobs import inbox
from ..auth import current_actor
from . import api
from .jobs import MAX_ID, bad_parameters, page_arguments

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


@api.get("/inbox")
def inbox_list():
    """Your notifications, newest first (``unread=true``: only unread ones)."""
    actor = current_actor()
    args, errors = page_arguments()
    unread = request.args.get("unread", "false").lower()
    if unread not in TRUE + FALSE:
        errors.append({"parameter": "unread", "message": "true or false"})
    if errors:
        return bad_parameters(errors)
    with current_app.extensions["xrm"].engine.connect() as conn:
        return jsonify(inbox.page(conn, actor.user_id, unread=unread in TRUE, **args))


@api.post("/inbox/<int:notification_id>/read")
def inbox_read(notification_id: int):
    actor = current_actor()
    item = None
    if notification_id <= MAX_ID:
        with current_app.extensions["xrm"].engine.begin() as conn:
            item = inbox.mark_read(conn, actor.user_id, notification_id)
    if item is None:
        raise NotFound(f"you have no notification {notification_id}")
    return jsonify(item)


@api.post("/inbox/read-all")
def inbox_read_all():
    actor = current_actor()
    with current_app.extensions["xrm"].engine.begin() as conn:
        marked = inbox.mark_all_read(conn, actor.user_id)
    return jsonify({"marked": marked})
