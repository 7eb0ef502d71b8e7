"""Carrying out what actions produce: ``createRecord`` runs now, through the record service
(same transaction, so its own rules, workflow and automations apply); notifications, e-mails,
webhooks and plugin actions go to the outbox (topic ``action.<type>``) in the same transaction,
each with an idempotency key, for the job system to deliver after commit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...workflow.actions import ACTION_TYPES, Effect
from ..context import Actor
from ..records import outbox
from ..security.access import Access

#: Nested automation runs and created records per write; beyond it the write is refused.
MAX_DEPTH = 8
DEPTH_KEY = "xrm.workflow.depth"


class AutomationDepthExceeded(Exception):
    pass


def trusted(actor: Actor) -> Actor:
    """Actions were defined by an administrator: they run with the platform's rights, in the
    name of the user who set them off."""
    return Actor(user_id=actor.user_id, username=actor.username, roles=actor.roles, is_admin=True)


class Depth:
    """Counts nested workflow work on the connection (the transaction's explicit context)."""

    def __init__(self, conn, what: str):
        self.conn, self.what = conn, what

    def __enter__(self):
        depth = self.conn.info.get(DEPTH_KEY, 0) + 1
        if depth > MAX_DEPTH:
            from ..records.errors import RecordConflict

            raise RecordConflict(
                f"{self.what}: more than {MAX_DEPTH} nested automation steps (automations "
                "or actions that set each other off in a loop?); nothing was saved"
            )
        self.conn.info[DEPTH_KEY] = depth
        return depth

    def __exit__(self, *exc):
        self.conn.info[DEPTH_KEY] -= 1
        if self.conn.info[DEPTH_KEY] <= 0:
            self.conn.info.pop(DEPTH_KEY, None)


def carry_out(
    conn,
    records: Any,
    effects: Iterable[Effect],
    *,
    entity: str,
    record_id: int,
    key: str,
    actor: Actor,
    source: dict[str, Any],
    record: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run or queue every effect; returns one step description per effect (for run logs)."""
    steps = []
    for i, effect in enumerate(effects):
        data = effect.as_dict()["data"]
        if effect.type == "createRecord":
            with Depth(conn, f"createRecord {data['entity']} from {entity} {record_id}"):
                rec = records.create(
                    conn,
                    trusted(actor),
                    data["entity"],
                    data["values"],
                    access=Access(actor=trusted(actor)),
                )
            steps.append({"type": "createRecord", "entity": data["entity"], "id": rec["id"]})
            continue
        topic = f"action.{effect.type}"
        payload = {
            "type": effect.type,
            "entity": entity,
            "id": record_id,
            "actor": {"id": actor.user_id, "username": actor.username},
            "source": source,
            **data,
        }
        if effect.type not in ACTION_TYPES and record is not None:
            payload["record"] = record  # a plugin action's run(context, params, record)
        ikey = f"{key}:{i}"
        outbox.enqueue(conn, topic, ikey, payload, entity, record_id)
        steps.append({"type": effect.type, "queued": topic, "key": ikey})
    return steps
