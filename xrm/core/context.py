"""Who is acting: passed explicitly to every service call (no global request state)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: tuple[str, ...] = ()
    is_admin: bool = False


SYSTEM = Actor(user_id=None, username="system", roles=("Admin",), is_admin=True)
