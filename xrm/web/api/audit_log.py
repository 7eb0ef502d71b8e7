"""The audit log for administrators: every record write, filtered and paged newest first.

``GET /api/v1/admin/audit?entity=&record=&user=&action=&from=&to=&limit=&before=`` pages by
the audit row id (keyset: ``before`` is the ``next`` cursor of the previous page), so a page
costs one indexed query however long the log is.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import sqlalchemy as sa
from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest, Forbidden

from ...core.tables import audit
from ..auth import current_actor
from . import api

MAX_LIMIT = 500
_DIGITS = re.compile(r"[0-9]{1,19}")
_MAX_ID = 2**63 - 1


def _text(name: str, max_length: int) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or "\x00" in value:
        raise BadRequest(f"'{name}' is at most {max_length} characters without NUL")
    return value


def _whole(name: str, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise BadRequest(f"'{name}' is a whole number from {low} to {high}, not {value[:30]!r}")
    return int(value)


def _instant(name: str) -> tuple[dt.datetime, bool] | None:
    """An ISO 8601 date or date-time (UTC when it has no offset), and whether it was a date."""
    value = _text(name, 40)
    if value is None:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time()), True
        if not value.isascii():
            raise ValueError(value)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"'{name}' is a date (2025-03-31) or an ISO 8601 date-time, not {value!r}"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment, False


@api.get("/admin/audit")
def admin_audit():
    """Audit entries, newest first: who changed what, with each field's old and new value."""
    if not current_actor().is_admin:
        raise Forbidden("administrators only")
    entity = _text("entity", 60)
    record = _whole("record", 1, _MAX_ID)
    user = _text("user", 100)
    action = _text("action", 20)
    start, end = _instant("from"), _instant("to")
    limit = _whole("limit", 1, MAX_LIMIT) or 50
    before = _whole("before", 1, _MAX_ID)
    if record is not None and entity is None:
        raise BadRequest("'record' needs 'entity' (record ids are per entity)")
    q = sa.select(audit).order_by(audit.c.id.desc()).limit(limit + 1)
    if entity is not None:
        q = q.where(audit.c.entity == entity)
    if record is not None:
        q = q.where(audit.c.record_id == record)
    if user is not None:
        q = q.where(audit.c.actor_name == user)
    if action is not None:
        q = q.where(audit.c.action == action)
    if start is not None:
        q = q.where(audit.c.at >= start[0])
    if end is not None:  # a date includes its whole day
        moment, whole_day = end
        if not whole_day:
            q = q.where(audit.c.at <= moment)
        elif moment.date() < dt.date.max:
            q = q.where(audit.c.at < moment + dt.timedelta(days=1))
    if before is not None:
        q = q.where(audit.c.id < before)
    with current_app.extensions["xrm"].engine.connect() as conn:
        rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "id": r.id,
            "entity": r.entity,
            "recordId": r.record_id,
            "action": r.action,
            "actor": r.actor_name,
            "actorId": r.actor_id,
            "at": r.at.isoformat() + "Z",
            "changes": json.loads(r.changes),
        }
        for r in rows
    ]
    return jsonify({"items": items, "next": str(rows[-1].id) if more else None})
