"""``action.notify``: put a notification in the in-app inbox of users (and optionally e-mail
them).

Payload::

    {"users": [3, 7],                 # user ids
     "roles": ["Sales manager"],      # every active user of these roles
     "owner": true,                   # the owner of the message's record
     "subject": "Lead 12 qualified",  # required
     "body": "text" | null,
     "link": "/ui/crm.lead/12" | null,
     "email": false}                  # true: also an e-mail to those with an address

Recipients are resolved when the message is delivered. A redelivered message adds nothing: each
notification carries the message's idempotency key (unique per user). With ``email``, an
``action.email`` message (key ``<key>:email``) is enqueued in the same transaction.
"""

from __future__ import annotations

from typing import Any

from .. import inbox, store
from ..errors import PermanentError
from ..model import Job, JobContext
from .recipients import resolve


def notify(ctx: JobContext, job: Job) -> dict[str, Any]:
    data = job.payload
    subject = data.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise PermanentError("'subject' is required (a non-empty text)")
    recipients = resolve(ctx, job, data)
    if not recipients:
        ctx.step("no recipient: nobody matched users, roles or owner")
        return {"notified": 0}
    with ctx.engine.begin() as conn:
        added = inbox.add(
            conn,
            [r.user_id for r in recipients],
            subject=subject,
            body=data.get("body"),
            link=data.get("link"),
            entity=job.entity,
            record_id=job.record_id,
            source_key=job.key,
            now=ctx.now,
        )
        mailed = [r for r in recipients if r.email]
        if data.get("email") and mailed:
            store.enqueue(
                conn,
                "action.email",
                f"{job.key}:email",
                {
                    "users": [r.user_id for r in mailed],
                    "subject": subject,
                    "body": data.get("body") or subject,
                },
                entity=job.entity,
                record_id=job.record_id,
                now=ctx.now,
            )
            ctx.step("e-mail queued", recipients=len(mailed))
    ctx.step(f"{added} notification(s) added", users=[r.username for r in recipients])
    return {"notified": added}
