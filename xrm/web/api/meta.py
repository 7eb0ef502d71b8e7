"""Metadata endpoints: entity definitions and the meta-schema."""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from ...metadata.errors import OptionSetInUse, StalePlan
from ...metadata.layers import BASE
from ...metadata.metaschema import entity_metaschema
from ...metadata.model import thaw
from ..auth import current_actor
from ..errors import problem
from . import api


def _platform():
    return current_app.extensions["xrm"]


def _versioned(response, version: int):
    response.headers["X-Xrm-Metadata-Version"] = str(version)
    return response


@api.get("/meta/schemas/entity")
def entity_meta_schema():
    """The meta-schema every entity definition must satisfy (public)."""
    return jsonify(entity_metaschema())


@api.get("/meta/entities")
def list_entities():
    p = _platform()
    with p.engine.connect() as conn:
        current_actor(conn)  # on the same connection: it also reads the metadata version
        snap = p.registry.snapshot(conn)
    items = [
        {
            "name": e.name,
            "label": e.definition.label,
            "labelPlural": e.definition.label_plural,
            "source": e.definition.layer,
            "fields": len(e.definition.fields),
        }
        for e in snap.entities.values()
    ]
    return _versioned(jsonify({"version": snap.version, "items": items}), snap.version)


@api.get("/meta/entities/<name>")
def get_entity(name: str):
    p = _platform()
    with p.engine.connect() as conn:
        current_actor(conn)
        snap = p.registry.snapshot(conn)
        ce = snap.entity(name)
        layers = p.registry.layers(conn, [name]).get(name, {})
    body = {
        "name": name,
        "version": snap.version,
        "source": ce.definition.layer,
        "definition": thaw(ce.definition.document),
        "layers": sorted(layers, key=lambda layer: (layer != BASE, layer)),
        "recordSchema": ce.record_schema,
        "form": ce.form_spec,
    }
    return _versioned(jsonify(body), snap.version)


def _require_admin():
    actor = current_actor()
    if not actor.is_admin:
        raise Forbidden("only administrators may change entity definitions")
    return actor


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest('expected a JSON object such as {"definitions": [...]}')
    return body


def _plan_from(body: dict):
    docs = body.get("definitions", [])
    removed = body.get("removed", [])
    if not isinstance(docs, list) or not isinstance(removed, list):
        raise BadRequest("'definitions' and 'removed' must be lists")
    if not all(isinstance(name, str) for name in removed):
        raise BadRequest("'removed' is a list of entity names")
    return _platform().registry.plan(docs, removed=removed)


@api.post("/meta/plan")
def plan_definitions():
    """Dry run: validate and plan, with row counts for checked operations. Changes nothing."""
    _require_admin()
    plan = _plan_from(_body())
    return jsonify(plan.as_dict())


@api.post("/meta/apply")
def apply_definitions():
    """Plan and apply in one transaction. ``confirm`` is required for checked and destructive
    operations; ``baseVersion`` (from a previous plan) refuses with 409 if metadata moved."""
    actor = _require_admin()
    body = _body()
    plan = _plan_from(body)
    base = body.get("baseVersion")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool)):
        raise BadRequest("'baseVersion' is the whole number from a previous plan")
    if base is not None and base != plan.base_version:
        raise StalePlan(f"the metadata changed since version {base}; plan again")
    fallbacks = body.get("fallbacks") or {}
    if not isinstance(fallbacks, dict):
        raise BadRequest('\'fallbacks\' must be an object such as {"crm.contact.age": "null"}')
    version = _platform().registry.apply(
        plan, confirm=bool(body.get("confirm")), fallbacks=fallbacks, actor=actor.username
    )
    return _versioned(jsonify({"version": version, "plan": plan.as_dict()}), version)


@api.put("/meta/entities/<name>")
def put_entity(name: str):
    """Create or replace one entity's definition (plan + apply). The body is the definition
    document; ``?confirm=true`` is needed for checked or destructive changes. On a plugin's
    entity an administrator's document becomes the customisation layer."""
    actor = _require_admin()
    doc = request.get_json(silent=True)
    if not isinstance(doc, dict):
        raise BadRequest("expected the entity definition document")
    declared = (doc.get("x-xrm") or {}).get("name") if isinstance(doc.get("x-xrm"), dict) else None
    if declared != name:
        raise BadRequest(f"the document's x-xrm.name ({declared!r}) must be {name!r}")
    registry = _platform().registry
    plan = registry.plan([doc])
    confirm = request.args.get("confirm", "").lower() in ("1", "true", "yes")
    version = registry.apply(plan, confirm=confirm, actor=actor.username)
    return _versioned(jsonify({"version": version, "plan": plan.as_dict()}), version)


@api.get("/meta/entities/<name>/history")
def entity_history(name: str):
    current_actor()
    return jsonify({"items": _platform().registry.history(name)})


# -- option sets -------------------------------------------------------------------------------
# A set is created or changed like an entity, through POST /meta/plan and /meta/apply (a document
# with "options" and no "x-xrm"), so the planner replans the entities that use it and the same
# confirmation and fallbacks apply. Deleting one is refused while a field uses it.


def _option_set_item(doc: dict, users: dict[str, list[str]]) -> dict:
    return {**doc, "usedBy": sorted(users.get(doc["name"], []))}


@api.get("/meta/option-sets")
def list_option_sets():
    """Every option set with the fields that use it (``usedBy``), by name."""
    current_actor()
    p = _platform()
    with p.engine.connect() as conn:
        sets = p.registry.option_sets(conn)
        snap = p.registry.snapshot(conn)
    users = p.registry.option_set_users(snap)
    items = [_option_set_item(sets[n], users) for n in sorted(sets)]
    return _versioned(jsonify({"version": snap.version, "items": items}), snap.version)


@api.get("/meta/option-sets/<name>")
def get_option_set(name: str):
    current_actor()
    p = _platform()
    with p.engine.connect() as conn:
        sets = p.registry.option_sets(conn)
        snap = p.registry.snapshot(conn)
    if name not in sets:
        raise NotFound(f"there is no option set {name!r}")
    body = _option_set_item(sets[name], p.registry.option_set_users(snap))
    return _versioned(jsonify(body), snap.version)


@api.delete("/meta/option-sets/<name>")
def delete_option_set(name: str):
    """Delete an option set no field uses (administrators). 409 with ``usedBy`` otherwise."""
    _require_admin()
    try:
        version = _platform().registry.delete_option_set(name)
    except OptionSetInUse as exc:
        return problem(exc.status, exc.title, str(exc), usedBy=exc.used_by)
    res = current_app.response_class(status=204)
    return _versioned(res, version)
