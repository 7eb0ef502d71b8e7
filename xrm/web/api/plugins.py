"""Administration of plugins: /api/v1/admin/plugins (administrators only).

GET the list or one plugin; POST ``/<name>/install`` and ``/<name>/upgrade`` (body or query
``dry_run`` returns the plan and changes nothing; ``confirm`` is needed for checked or
destructive definition changes); POST ``/<name>/enable`` and ``/<name>/disable``; DELETE
``/<name>`` uninstalls (``purge=true`` archives entities that hold data, ``dry_run=true``
plans).
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest, Forbidden

from ...core.plugins.catalogue import catalogue, describe
from ...core.plugins.lifecycle import PluginLifecycle
from ...core.records.errors import RecordInvalid, field_problem, invalid
from ..auth import current_actor
from . import api

TRUE = ("1", "true", "yes")


def _admin():
    actor = current_actor()
    if not actor.is_admin:
        raise Forbidden("only administrators may manage plugins")
    return actor


def _platform():
    return current_app.extensions["xrm"]


OPTIONS = ("dry_run", "confirm", "purge")


class PluginOptionsInvalid(RecordInvalid):
    """Options of a plugin operation that do not fit (422, each with its pointer)."""

    title = "Invalid options"


def _flag(body: dict, name: str) -> bool:
    if name in body:
        return body[name]  # a boolean: :func:`_options` checked it
    return request.args.get(name, "").lower() in TRUE


def _options() -> dict:
    """The JSON object of options, if any: anything else is malformed (400); an unknown option
    or one that is not true or false is invalid (422 with every problem)."""
    if not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest('expected a JSON object such as {"dry_run": true}')
    problems = [
        field_problem(k, f"unknown option {k!r}; one of {', '.join(OPTIONS)}")
        if k not in OPTIONS
        else field_problem(k, f"{k} is true or false")
        for k, v in sorted(body.items())
        if k not in OPTIONS or not isinstance(v, bool)
    ]
    if problems:
        raise invalid(PluginOptionsInvalid, "options", problems)
    return body


@api.get("/admin/plugins")
def admin_plugins():
    _admin()
    return jsonify({"items": catalogue(_platform())})


@api.get("/admin/plugins/<name>")
def admin_plugin(name: str):
    _admin()
    return jsonify(describe(_platform(), name))


def _install_or_upgrade(name: str, action: str):
    actor = _admin()
    body = _options()
    lc = PluginLifecycle(_platform())
    if _flag(body, "dry_run"):
        return jsonify(getattr(lc, f"plan_{action}")(name).as_dict())
    change = getattr(lc, action)(name, actor=actor, confirm=_flag(body, "confirm"))
    return jsonify(change.as_dict()), 201 if action == "install" else 200


@api.post("/admin/plugins/<name>/install")
def admin_install_plugin(name: str):
    return _install_or_upgrade(name, "install")


@api.post("/admin/plugins/<name>/upgrade")
def admin_upgrade_plugin(name: str):
    return _install_or_upgrade(name, "upgrade")


@api.post("/admin/plugins/<name>/enable")
def admin_enable_plugin(name: str):
    actor = _admin()
    return jsonify(PluginLifecycle(_platform()).set_enabled(name, True, actor=actor).as_dict())


@api.post("/admin/plugins/<name>/disable")
def admin_disable_plugin(name: str):
    actor = _admin()
    return jsonify(PluginLifecycle(_platform()).set_enabled(name, False, actor=actor).as_dict())


@api.delete("/admin/plugins/<name>")
def admin_uninstall_plugin(name: str):
    actor = _admin()
    body = _options()
    lc = PluginLifecycle(_platform())
    purge = _flag(body, "purge")
    if _flag(body, "dry_run"):
        return jsonify(lc.plan_uninstall(name, purge=purge).as_dict())
    return jsonify(lc.uninstall(name, purge=purge, actor=actor).as_dict())
