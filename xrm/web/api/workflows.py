"""Workflow and rule-set endpoints: documents (/meta/workflows, /meta/rules), a record's
transitions and approvals, the form state. Thin: parse, call ``platform.workflows``, render."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest, Forbidden

from ...core.workflows.documents import StateMappingNeeded, finding_dict
from ...metadata.database import writing
from ...workflow.errors import ApprovalRefused, TransitionRefused, WorkflowError
from ...workflow.metaschema import rules_metaschema, workflow_metaschema
from ..auth import current_actor
from ..errors import problem
from . import api, entity_arg
from .data import _existing_id, _if_match_version, _json_body, _record_response

KINDS = {"workflows": "workflow", "rules": "rules"}


def _platform():
    return current_app.extensions["xrm"]


def _kind(collection: str) -> str:
    kind = KINDS.get(collection)
    if kind is None:
        raise BadRequest("unknown collection")
    return kind


def _admin():
    actor = current_actor()
    if not actor.is_admin:
        raise Forbidden("only administrators may change workflows and rule sets")
    return actor


@api.get("/meta/schemas/workflow")
def workflow_meta_schema():
    """The meta-schema of workflow documents (public)."""
    return jsonify(workflow_metaschema())


@api.get("/meta/schemas/rules")
def rules_meta_schema():
    """The meta-schema of rule-set documents (public)."""
    return jsonify(rules_metaschema())


@api.get("/meta/action-types")
def action_types():
    """The action types a workflow or automation may use: the built-in ones and those plugins
    registered, each with its parameters as JSON Schema (the designers build their forms from
    it)."""
    current_actor()
    from ...workflow.actions import ACTION_TYPES

    items = [
        {
            "name": t.name,
            "doc": t.doc,
            "params": dict(t.params),
            "required": list(t.required),
            "plugin": None,
        }
        for t in ACTION_TYPES.values()
    ]
    for name, t in sorted(_platform().workflows.action_types.items()):
        items.append(
            {
                "name": name,
                "doc": t.get("doc") or "",
                "params": dict(t.get("params") or {}),
                "required": list(t.get("required") or ()),
                "plugin": t.get("plugin"),
            }
        )
    return jsonify({"items": items})


def _list(collection: str):
    kind = _kind(collection)
    current_actor()
    entity = entity_arg()
    p = _platform()
    with p.engine.connect() as conn:
        from ...core.workflows import documents

        items = documents.listing(conn, kind, entity)
        cat = p.workflows.catalog(conn)
    for item in items:
        broken = cat.broken.get((kind, item["name"]))
        item["status"] = "invalid" if broken else "active"
        if broken:
            item["problems"] = broken
    return jsonify({"items": items})


def _get(collection: str, name: str):
    kind = _kind(collection)
    current_actor()
    from ...core.workflows import documents

    with _platform().engine.connect() as conn:
        return jsonify(documents.get(conn, kind, name))


def _history(collection: str, name: str):
    kind = _kind(collection)
    current_actor()
    from ...core.workflows import documents

    with _platform().engine.connect() as conn:
        return jsonify({"items": documents.history(conn, kind, name)})


def _verify(collection: str):
    kind = _kind(collection)
    current_actor()
    doc = request.get_json(silent=True)
    if doc is None:
        raise BadRequest("expected a JSON document")
    with _platform().engine.connect() as conn:
        return jsonify(_platform().workflows.verify(conn, kind, doc))


def _put(collection: str, name: str):
    kind = _kind(collection)
    actor = _admin()
    body = _json_body()
    # The document itself, or {"document": {...}, "mapping": {"old state": "new state"}}.
    wrapped = isinstance(body.get("document"), dict)
    doc = body["document"] if wrapped else body
    mapping = (body.get("mapping") if wrapped else None) or {}
    if doc.get("name") != name:
        raise BadRequest(f"the document's name must be {name!r} (the name in the URL)")
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise BadRequest('\'mapping\' maps old states to new ones: {"quoted": "sent"}')
    dry_run = request.args.get("dry_run", "").lower() in ("1", "true", "yes")
    p = _platform()
    try:
        with writing(p.engine) as conn:
            plan = p.workflows.save(
                conn,
                kind,
                doc,
                source="admin",
                actor=actor.username,
                mapping=mapping,
                dry_run=dry_run,
            )
    except StateMappingNeeded as exc:
        return problem(409, exc.title, str(exc), errors=[finding_dict(f) for f in exc.findings])
    body = plan.as_dict()
    if dry_run:
        return jsonify(body), (422 if plan.errors else 200)
    return jsonify(body)


def _delete(collection: str, name: str):
    kind = _kind(collection)
    actor = _admin()
    from ...core.workflows import documents

    with writing(_platform().engine) as conn:
        documents.remove(conn, kind, name, actor.username)
    return "", 204


for _c in KINDS:
    api.add_url_rule(
        f"/meta/{_c}", f"{_c}_list", _list, defaults={"collection": _c}, methods=["GET"]
    )
    api.add_url_rule(
        f"/meta/{_c}/verify", f"{_c}_verify", _verify, defaults={"collection": _c}, methods=["POST"]
    )
    api.add_url_rule(
        f"/meta/{_c}/<name>", f"{_c}_get", _get, defaults={"collection": _c}, methods=["GET"]
    )
    api.add_url_rule(
        f"/meta/{_c}/<name>", f"{_c}_put", _put, defaults={"collection": _c}, methods=["PUT"]
    )
    api.add_url_rule(
        f"/meta/{_c}/<name>",
        f"{_c}_delete",
        _delete,
        defaults={"collection": _c},
        methods=["DELETE"],
    )
    api.add_url_rule(
        f"/meta/{_c}/<name>/history",
        f"{_c}_history",
        _history,
        defaults={"collection": _c},
        methods=["GET"],
    )


# -- records -----------------------------------------------------------------------------------


def _ctx():
    p = _platform()
    actor = current_actor()
    return p, actor


def _comment_and_workflow(body: dict, workflow: Any) -> tuple[str | None, str | None]:
    """The optional comment of a fire or approve body, and the workflow it names (needed when
    several workflows of the entity have a transition of that name)."""
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise BadRequest("'comment' is text")
    if workflow is not None and not isinstance(workflow, str):
        raise BadRequest("'workflow' is the name of one of the entity's workflows")
    return comment, workflow


@api.get("/data/<entity>/<int:record_id>/transitions")
def record_transitions(entity: str, record_id: int):
    _existing_id(entity, record_id)
    p, actor = _ctx()
    with p.engine.begin() as conn:
        return jsonify(p.workflows.transitions(conn, actor, entity, record_id))


@api.post("/data/<entity>/<int:record_id>/transitions/<name>")
def fire_transition(entity: str, record_id: int, name: str):
    _existing_id(entity, record_id)
    body = request.get_json(silent=True)
    if body is None and not request.data:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest('expected a JSON object such as {"comment": "...", "values": {...}}')
    comment, workflow = _comment_and_workflow(
        body, body.get("workflow") or request.args.get("workflow")
    )
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise BadRequest("'values' is an object of field values")
    expected = _if_match_version(record_id)
    p, actor = _ctx()
    with writing(p.engine) as conn:
        record = p.workflows.fire(
            conn,
            actor,
            entity,
            record_id,
            name,
            comment=comment,
            values=values,
            if_match=expected,
            workflow=workflow,
        )
    return _record_response(record)


@api.get("/data/<entity>/<int:record_id>/approvals")
def record_approvals(entity: str, record_id: int):
    _existing_id(entity, record_id)
    p, actor = _ctx()
    with p.engine.begin() as conn:
        return jsonify({"items": p.workflows.approval_list(conn, actor, entity, record_id)})


@api.post("/data/<entity>/<int:record_id>/approvals")
def give_approval(entity: str, record_id: int):
    _existing_id(entity, record_id)
    body = _json_body()
    transition, step = body.get("transition"), body.get("step")
    if not isinstance(transition, str) or not isinstance(step, str):
        raise BadRequest('expected {"transition": "<name>", "step": "<approval step>"}')
    comment, workflow = _comment_and_workflow(body, body.get("workflow"))
    p, actor = _ctx()
    with writing(p.engine) as conn:
        out = p.workflows.approve(
            conn, actor, entity, record_id, transition, step, comment, workflow=workflow
        )
    return jsonify(out), 201


@api.get("/data/<entity>/<int:record_id>/states")
def record_states(entity: str, record_id: int):
    """Time in state: every stay of the record in a workflow state."""
    _existing_id(entity, record_id)
    p, actor = _ctx()
    with p.engine.begin() as conn:
        return jsonify({"items": p.workflows.state_history(conn, actor, entity, record_id)})


@api.get("/data/<entity>/<int:record_id>/automation-runs")
def record_automation_runs(entity: str, record_id: int):
    _existing_id(entity, record_id)
    p, actor = _ctx()
    with p.engine.begin() as conn:
        return jsonify({"items": p.workflows.automation_runs(conn, actor, entity, record_id)})


@api.post("/data/<entity>/form-state")
def form_state(entity: str):
    body = _json_body()
    values, rid = body.get("values") or {}, body.get("id")
    if not isinstance(values, dict):
        raise BadRequest("'values' is an object of field values")
    if rid is not None and (not isinstance(rid, int) or isinstance(rid, bool) or rid < 0):
        raise BadRequest("'id' is a record id")
    if rid is not None:
        _existing_id(entity, rid)
    p, actor = _ctx()
    with p.engine.begin() as conn:
        return jsonify(p.workflows.form_state(conn, actor, entity, values, rid))


def register_workflow_errors(app) -> None:
    """Refused transitions and approvals as problem details with their reasons."""

    @app.errorhandler(TransitionRefused)
    def _refused(exc: TransitionRefused):
        return problem(
            exc.status,
            exc.title,
            str(exc),
            reasons=[r.as_dict() for r in exc.reasons],
            transition=exc.transition,
        )

    @app.errorhandler(ApprovalRefused)
    def _approval(exc: ApprovalRefused):
        return problem(
            exc.status, exc.title, str(exc), reasons=[{"code": "approval", "message": str(exc)}]
        )

    from ...core.workflows import TransitionConflict

    @app.errorhandler(TransitionConflict)
    def _conflict(exc: TransitionConflict):
        return problem(exc.status, exc.title, str(exc), reasons=exc.problems, errors=exc.problems)

    @app.errorhandler(WorkflowError)
    def _workflow(exc: WorkflowError):
        return problem(exc.status, exc.title, str(exc), reasons=[])
