"""Jobs administration (administrators only): the outbox messages by status and topic, one
message with its run log, retry and discard. Dead letters: ``?status=dead``."""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import Conflict, Forbidden, NotFound

from ...core.jobs import admin as jobs_admin
from ...core.jobs.errors import JobNotFound, JobStateConflict
from ...core.jobs.store import STATUSES
from ..auth import current_actor
from ..errors import problem
from . import api

MAX_ID = 2**63 - 1


def _admin() -> None:
    if not current_actor().is_admin:
        raise Forbidden("administrators only")


def _engine():
    return current_app.extensions["xrm"].engine


def page_arguments() -> tuple[dict, list[dict]]:
    """``limit`` and ``before`` of a keyset-paged list, with per-parameter errors."""
    errors, out = [], {}
    limit = request.args.get("limit", "50")
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 200):
        errors.append({"parameter": "limit", "message": "a whole number from 1 to 200"})
    else:
        out["limit"] = int(limit)
    before = request.args.get("before")
    if before is not None:
        if before.isascii() and before.isdigit() and int(before) <= MAX_ID:
            out["before"] = int(before)
        else:
            errors.append({"parameter": "before", "message": "the 'next' of a previous page"})
    return out, errors


def bad_parameters(errors: list[dict]):
    names = ", ".join(e["parameter"] for e in errors)
    return problem(400, "Bad Request", f"invalid query parameter(s): {names}", errors=errors)


@api.get("/admin/jobs")
def admin_jobs():
    """Jobs newest first, filtered by ``status`` and ``topic`` (exact, or ``prefix.*``)."""
    _admin()
    args, errors = page_arguments()
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        errors.append({"parameter": "status", "message": f"one of {', '.join(STATUSES)}"})
    topic = request.args.get("topic")
    if topic is not None and not (0 < len(topic) <= 80 and "\x00" not in topic):
        errors.append({"parameter": "topic", "message": "a topic of 1 to 80 characters"})
    if errors:
        return bad_parameters(errors)
    with _engine().connect() as conn:
        body = jobs_admin.page(conn, status=status, topic=topic, **args)
        body["counts"] = jobs_admin.counts(conn)
    return jsonify(body)


@api.get("/admin/jobs/<int:job_id>")
def admin_job(job_id: int):
    _admin()
    with _engine().connect() as conn:
        return jsonify(_call(jobs_admin.get, conn, job_id))


@api.post("/admin/jobs/<int:job_id>/retry")
def admin_job_retry(job_id: int):
    """Deliver a dead, discarded, skipped or waiting job again now (attempts start over)."""
    _admin()
    with _engine().begin() as conn:
        return jsonify(_call(jobs_admin.retry, conn, job_id))


@api.post("/admin/jobs/<int:job_id>/discard")
def admin_job_discard(job_id: int):
    """Never deliver a dead or waiting job."""
    _admin()
    with _engine().begin() as conn:
        return jsonify(_call(jobs_admin.discard, conn, job_id))


def _call(fn, conn, job_id: int):
    if job_id > MAX_ID:
        raise NotFound(f"there is no job {job_id}")
    try:
        return fn(conn, job_id)
    except JobNotFound as exc:
        raise NotFound(str(exc)) from None
    except JobStateConflict as exc:
        raise Conflict(str(exc)) from None
