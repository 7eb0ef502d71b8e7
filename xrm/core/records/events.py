"""Record lifecycle events handed to plugin hooks, and the veto a before-hook may raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..context import Actor
from .errors import RecordError


class RecordVetoed(RecordError):
    """Raised by a plugin's before-hook to refuse a write; the message reaches the user."""

    status = 422
    title = "Refused by a rule"

    def __init__(self, message: str, field: str | None = None):
        problems = [{"pointer": f"/{field}", "field": field, "message": message}] if field else []
        super().__init__(message, problems)


@dataclass
class RecordEvent:
    """One write, as plugins see it.

    In ``before`` hooks ``values`` (field -> new value, already validated) may be changed and
    the write refused with :class:`RecordVetoed`; ``before`` is the record as it was (update,
    delete). In ``after`` hooks ``after`` is the record as written. Further writes from a hook
    go through ``records`` on the same ``conn`` (same transaction, the one write path).
    """

    entity: str
    action: str
    actor: Actor
    conn: sa.Connection
    records: Any
    record_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    #: Transition events: the transition's name and the user's comment.
    transition: str | None = None
    comment: str | None = None

    def fire(
        self,
        entity: str,
        record_id: int,
        transition: str,
        *,
        actor: Actor | None = None,
        comment: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Take workflow ``transition`` on another record, inside this write's transaction, as
        ``actor`` (default: this event's actor; pass ``SYSTEM`` to act as the platform, which
        roles do not restrict). Guards, required fields, hooks and automations apply as for a
        user; a refusal raises and rolls the whole write back. Returns the stored record."""
        workflows = getattr(self.records, "workflows", None)
        if workflows is None:
            raise RecordError(
                f"cannot fire {transition!r} on {entity} {record_id}: no workflow runtime"
            )
        return workflows.fire(
            self.conn,
            actor or self.actor,
            entity,
            record_id,
            transition,
            comment=comment,
            values=values,
        )
