"""The plugin administration endpoints (/admin/plugins), as OpenAPI."""

from __future__ import annotations

from typing import Any

from .common import json_body, json_response, operation, path_parameter

PLUGINS = "plugins"

_NAME = path_parameter("name", "The plugin's name (its entry-point name).", {"type": "string"})
_ISO = {"type": ["string", "null"], "format": "date-time"}

PLUGIN = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "description": {"type": "string"},
        "version": {"type": ["string", "null"], "description": "The loaded version."},
        "requires": {"type": "array", "items": {"type": "string"}},
        "requiredBy": {"type": "array", "items": {"type": "string"}},
        "status": {
            "enum": ["available", "installed", "upgradable", "disabled", "off-by-env", "missing"]
        },
        "installed": {
            "type": ["object", "null"],
            "properties": {
                "installedVersion": {"type": "string"},
                "enabled": {"type": "boolean"},
                "installedAt": _ISO,
                "installedBy": {"type": "string"},
                "upgradedAt": _ISO,
                "upgradedBy": {"type": ["string", "null"]},
                "demoLoadedAt": _ISO,
            },
        },
    },
    "required": ["name", "status", "installed"],
}

CHANGE = {
    "type": "object",
    "description": "What the operation does (a plan when `applied` is false).",
    "properties": {
        "plugin": {"type": "string"},
        "action": {"enum": ["install", "upgrade", "enable", "disable", "uninstall"]},
        "fromVersion": {"type": ["string", "null"]},
        "toVersion": {"type": ["string", "null"]},
        "applied": {"type": "boolean"},
        "risk": {"enum": ["safe", "checked", "destructive"]},
        "definitions": {"type": ["object", "null"], "description": "The migration plan."},
        "roles": {"type": "array", "items": {"type": "object"}},
        "dataMigrations": {"type": "array", "items": {"type": "object"}},
        "workflows": {"type": "array", "items": {"type": "string"}},
        "rules": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "data": {"type": "object", "additionalProperties": {"type": "integer"}},
        "purge": {"type": "boolean"},
        "archivedTables": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["plugin", "action", "applied"],
}

OPTIONS = json_body(
    {
        "type": "object",
        "properties": {
            "dry_run": {"type": "boolean", "description": "Plan only; change nothing."},
            "confirm": {
                "type": "boolean",
                "description": "Needed for checked or destructive definition changes.",
            },
        },
        "additionalProperties": False,
    },
    required=False,
)


def _flag(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "boolean"},
    }


def plugin_paths() -> dict[str, Any]:
    changed = json_response("What was done.", CHANGE)
    return {
        "/admin/plugins": {
            "get": operation(
                "plugins.list",
                "Loaded and installed plugins",
                [PLUGINS],
                {
                    "200": json_response(
                        "Every plugin, in dependency order.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": PLUGIN}},
                        },
                    )
                },
                (403,),
            )
        },
        "/admin/plugins/{name}": {
            "get": operation(
                "plugins.get",
                "One plugin: state, entities it owns, what it contributes",
                [PLUGINS],
                {"200": json_response("The plugin.", PLUGIN)},
                (403, 404),
                parameters=[_NAME],
            ),
            "delete": operation(
                "plugins.uninstall",
                "Uninstall a plugin",
                [PLUGINS],
                {"200": changed},
                (400, 403, 404, 409, 422),
                description="Refused (409, with `data`) while its entities hold data, unless "
                "`purge=true`: then they are archived (tables renamed and kept). Refused while "
                "installed plugins depend on it.",
                parameters=[
                    _NAME,
                    _flag("purge", "Archive entities that hold data."),
                    _flag("dry_run", "Plan only."),
                ],
            ),
        },
        "/admin/plugins/{name}/install": {
            "post": operation(
                "plugins.install",
                "Install a plugin (definitions, roles, workflows, data migrations)",
                [PLUGINS],
                {"200": json_response("The plan (dry run).", CHANGE), "201": changed},
                (400, 403, 404, 409, 422),
                parameters=[_NAME],
                body=OPTIONS,
            )
        },
        "/admin/plugins/{name}/upgrade": {
            "post": operation(
                "plugins.upgrade",
                "Upgrade a plugin to the loaded version",
                [PLUGINS],
                {"200": changed},
                (400, 403, 404, 409, 422),
                description="Administrators' customisation layers are kept; data migrations "
                "with installed < version <= new run in version order.",
                parameters=[_NAME],
                body=OPTIONS,
            )
        },
        "/admin/plugins/{name}/enable": {
            "post": operation(
                "plugins.enable",
                "Enable a plugin",
                [PLUGINS],
                {"200": changed},
                (403, 404, 409),
                parameters=[_NAME],
            )
        },
        "/admin/plugins/{name}/disable": {
            "post": operation(
                "plugins.disable",
                "Disable a plugin (hooks off, menus hidden, data kept)",
                [PLUGINS],
                {"200": changed},
                (403, 404, 409),
                parameters=[_NAME],
            )
        },
    }
