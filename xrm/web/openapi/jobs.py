"""Jobs administration and the in-app inbox, as OpenAPI."""

from __future__ import annotations

from typing import Any

from ...core.jobs.store import STATUSES
from .common import JSON, MAX_ID, json_response, operation, path_parameter

JOBS, INBOX = "jobs", "inbox"

ISO = {"type": ["string", "null"], "format": "date-time"}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PAGING = [
    _query(
        "limit", "Items per page (1 to 200).", {"type": "integer", "minimum": 1, "maximum": 200}
    ),
    _query(
        "before",
        "Keyset cursor: the `next` of the previous page.",
        {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    ),
]

JOB = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "topic": {"type": "string", "description": "e.g. `action.webhook`, `record.created`."},
        "key": {"type": "string", "description": "Idempotency key (unique)."},
        "entity": {"type": ["string", "null"]},
        "recordId": {"type": ["integer", "null"]},
        "status": {"enum": list(STATUSES)},
        "attempts": {"type": "integer"},
        "createdAt": ISO,
        "availableAt": {**ISO, "description": "Due time, or lease end while running."},
        "dispatchedAt": ISO,
        "lastError": {"type": ["string", "null"]},
    },
    "required": ["id", "topic", "key", "status", "attempts"],
}

RUN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "attempt": {"type": "integer"},
        "worker": {"type": "string"},
        "transport": {"enum": ["inline", "celery"]},
        "startedAt": ISO,
        "finishedAt": ISO,
        "outcome": {"enum": ["running", "done", "retry", "dead", "lost"]},
        "error": {"type": ["string", "null"]},
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": {"type": "string"},
                    "message": {"type": "string"},
                    "data": {"type": "object"},
                },
            },
        },
    },
}

JOB_DETAIL = {
    "allOf": [
        JOB,
        {
            "type": "object",
            "properties": {
                "payload": {"description": "The message (secrets masked as `***`)."},
                "runs": {"type": "array", "items": RUN},
            },
            "required": ["runs"],
        },
    ]
}

NOTIFICATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "subject": {"type": "string"},
        "body": {"type": ["string", "null"]},
        "link": {"type": ["string", "null"]},
        "entity": {"type": ["string", "null"]},
        "recordId": {"type": ["integer", "null"]},
        "createdAt": ISO,
        "readAt": ISO,
        "read": {"type": "boolean"},
    },
    "required": ["id", "subject", "read"],
}


def _page(item: dict, extra: dict | None = None) -> dict:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": item},
            "next": {"type": ["integer", "null"], "description": "`before` of the next page."},
            **(extra or {}),
        },
        "required": ["items", "next"],
    }


def jobs_paths() -> dict[str, Any]:
    job_id = path_parameter(
        "id", "The job's id.", {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    )
    counts = {
        "type": "object",
        "description": "Number of jobs per status.",
        "properties": {s: {"type": "integer"} for s in STATUSES},
    }
    return {
        "/admin/jobs": {
            "get": operation(
                "jobs.list",
                "Jobs (outbox messages) by status and topic",
                [JOBS],
                {"200": json_response("Newest first.", _page(JOB, {"counts": counts}))},
                (400, 403),
                description="Administrators only. Dead letters: `?status=dead`. `topic` is "
                "exact, or a prefix ending in `*` (`action.*`).",
                parameters=[
                    _query("status", "Only jobs in this status.", {"enum": list(STATUSES)}),
                    _query(
                        "topic",
                        "Exact topic, or a prefix ending in `*`.",
                        {"type": "string", "minLength": 1, "maxLength": 80},
                    ),
                    *PAGING,
                ],
            )
        },
        "/admin/jobs/{id}": {
            "get": operation(
                "jobs.get",
                "One job with its run log",
                [JOBS],
                {"200": json_response("The job, its payload and every attempt.", JOB_DETAIL)},
                (403, 404),
                parameters=[job_id],
            )
        },
        "/admin/jobs/{id}/retry": {
            "post": operation(
                "jobs.retry",
                "Deliver a dead, discarded, skipped or waiting job again now",
                [JOBS],
                {"200": json_response("The job, pending again with no attempts.", JOB_DETAIL)},
                (403, 404, 409),
                description="A delivered (`done`) or running job cannot be retried (409).",
                parameters=[job_id],
            )
        },
        "/admin/jobs/{id}/discard": {
            "post": operation(
                "jobs.discard",
                "Never deliver a dead or waiting job",
                [JOBS],
                {"200": json_response("The job, now discarded.", JOB_DETAIL)},
                (403, 404, 409),
                parameters=[job_id],
            )
        },
    }


def inbox_paths() -> dict[str, Any]:
    nid = path_parameter(
        "id", "The notification's id.", {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    )
    return {
        "/inbox": {
            "get": operation(
                "inbox.list",
                "Your notifications",
                [INBOX],
                {
                    "200": json_response(
                        "Newest first, with the number of unread ones.",
                        _page(NOTIFICATION, {"unread": {"type": "integer"}}),
                    )
                },
                (400,),
                parameters=[
                    _query("unread", "Only unread notifications.", {"type": "boolean"}),
                    *PAGING,
                ],
            )
        },
        "/inbox/{id}/read": {
            "post": operation(
                "inbox.read",
                "Mark one of your notifications read",
                [INBOX],
                {"200": json_response("The notification.", NOTIFICATION)},
                (404,),
                parameters=[nid],
            )
        },
        "/inbox/read-all": {
            "post": operation(
                "inbox.readAll",
                "Mark all your notifications read",
                [INBOX],
                {
                    "200": {
                        "description": "How many were marked.",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "properties": {"marked": {"type": "integer"}},
                                    "required": ["marked"],
                                }
                            }
                        },
                    }
                },
                (),
            )
        },
    }
