"""Who a notification or an e-mail goes to: user ids, every active user of some roles, and the
record's owner, resolved against Flask-AppBuilder's user tables (Core SQL, no session)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role

from ...records.errors import RecordError
from ..errors import PermanentError
from ..model import Job, JobContext

user_t = User.__table__
role_t = Role.__table__


@dataclass(frozen=True)
class Recipient:
    user_id: int
    username: str
    email: str | None


def resolve(ctx: JobContext, job: Job, payload: dict[str, Any]) -> list[Recipient]:
    """Active users named by ``users`` (ids), ``roles`` (names) and ``owner`` (true: the
    owner of the message's record), each once, in that order."""
    ids = _ids(payload.get("users"))
    roles = _names(payload.get("roles"), "roles")
    if payload.get("owner"):
        owner = record_owner(ctx, job)
        if owner is not None:
            ids.insert(0, owner)
    with ctx.engine.connect() as conn:
        if roles:
            found = conn.execute(
                sa.select(assoc_user_role.c.user_id)
                .join(role_t, role_t.c.id == assoc_user_role.c.role_id)
                .where(role_t.c.name.in_(roles))
                .order_by(assoc_user_role.c.user_id)
            ).scalars()
            ids.extend(found)
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        rows = conn.execute(
            sa.select(user_t.c.id, user_t.c.username, user_t.c.email, user_t.c.active).where(
                user_t.c.id.in_(ids)
            )
        ).all()
    by_id = {r.id: r for r in rows}
    return [
        Recipient(by_id[i].id, by_id[i].username, by_id[i].email or None)
        for i in ids
        if i in by_id and by_id[i].active is not False
    ]


def record_owner(ctx: JobContext, job: Job) -> int | None:
    """The current owner of the message's record (None when it has none or is gone)."""
    if not job.entity or job.record_id is None:
        raise PermanentError("'owner' needs a message about a record (entity and record id)")
    from ...context import SYSTEM

    try:
        with ctx.engine.connect() as conn:
            record = ctx.records.get(conn, SYSTEM, job.entity, job.record_id)
    except RecordError:
        return None
    return record.get("owner_id")


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise PermanentError(f"'users' must be user ids (integers), not {v!r}")
        out.append(v)
    return out


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PermanentError(f"{what!r} must be a list of names, not {value!r}")
    return list(value)


def addresses(values: Iterable[Any], what: str) -> list[str]:
    out = []
    for v in values:
        if not isinstance(v, str) or "@" not in v or any(c in v for c in "\r\n"):
            raise PermanentError(f"{what!r} has an invalid e-mail address: {v!r}")
        out.append(v.strip())
    return out
