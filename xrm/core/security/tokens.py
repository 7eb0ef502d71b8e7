"""Personal API tokens: long-lived, revocable credentials for integrations.

A token is shown once at creation (``xrm_<prefix>_<secret>``); only its SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from ...metadata.store import utcnow
from ..records.errors import RecordNotFound
from ..tables import api_token

PREFIX = "xrm_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(conn: sa.Connection, user_id: int, name: str, days: int | None = None) -> dict:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = f"{PREFIX}{prefix}_{secret}"
    now = utcnow()
    expires = now + dt.timedelta(days=days) if days else None
    tid = conn.execute(
        api_token.insert()
        .values(
            user_id=user_id,
            name=name[:100],
            prefix=prefix,
            token_hash=_hash(token),
            created_at=now,
            expires_at=expires,
        )
        .returning(api_token.c.id)
    ).scalar_one()
    return {
        "id": tid,
        "name": name,
        "token": token,
        "prefix": prefix,
        "expiresAt": expires.isoformat() + "Z" if expires else None,
    }


def user_for_token(conn: sa.Connection, token: str) -> int | None:
    """The user id a valid (unrevoked, unexpired) token belongs to, or None."""
    if not token.startswith(PREFIX):
        return None
    prefix = token[len(PREFIX) :].split("_", 1)[0]
    row = conn.execute(sa.select(api_token).where(api_token.c.prefix == prefix)).first()
    if row is None or not secrets.compare_digest(row.token_hash, _hash(token)):
        return None
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at < now):
        return None
    conn.execute(api_token.update().where(api_token.c.id == row.id).values(last_used_at=now))
    return row.user_id


def list_tokens(conn: sa.Connection, user_id: int) -> list[dict]:
    rows = conn.execute(
        sa.select(api_token).where(api_token.c.user_id == user_id).order_by(api_token.c.id)
    ).all()
    iso = lambda d: d.isoformat() + "Z" if d else None  # noqa: E731
    return [
        {
            "id": r.id,
            "name": r.name,
            "prefix": r.prefix,
            "createdAt": iso(r.created_at),
            "expiresAt": iso(r.expires_at),
            "lastUsedAt": iso(r.last_used_at),
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]


def revoke_token(
    conn: sa.Connection, user_id: int, token_id: int, *, any_user: bool = False
) -> None:
    q = api_token.update().where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
    if not any_user:
        q = q.where(api_token.c.user_id == user_id)
    if conn.execute(q.values(revoked_at=utcnow())).rowcount != 1:
        raise RecordNotFound(f"API token {token_id} does not exist or is already revoked")
