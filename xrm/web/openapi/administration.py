"""Personal API tokens, administration and the login, as OpenAPI."""

from __future__ import annotations

from typing import Any

from ...core.security.access import SCOPES
from ...core.security.permissions import ENTITY_ACTIONS
from ...core.security.teams import LIMITS
from ...metadata.compiler import MetadataSnapshot
from ...metadata.names import FIELD_NAME_PATTERN
from .common import (
    JSON,
    MAX_ID,
    entity_parameter,
    json_body,
    json_response,
    operation,
    path_parameter,
)

TOKENS, ADMIN, LOGIN = "API tokens", "administration", "login"


def token_paths() -> dict[str, Any]:
    iso = {"type": ["string", "null"], "format": "date-time"}
    token = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "prefix": {"type": "string"},
            "createdAt": iso,
            "expiresAt": iso,
            "lastUsedAt": iso,
            "revoked": {"type": "boolean"},
        },
    }
    created = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "token": {"type": "string", "description": "Shown once: keep it."},
            "prefix": {"type": "string"},
            "expiresAt": iso,
        },
        "required": ["id", "token"],
    }
    return {
        "/tokens": {
            "get": operation(
                "tokens.list",
                "Your personal API tokens",
                [TOKENS],
                {
                    "200": json_response(
                        "Your tokens.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": token}},
                            "required": ["items"],
                        },
                    )
                },
                (),
            ),
            "post": operation(
                "tokens.create",
                "Create a personal API token",
                [TOKENS],
                {"201": json_response("The token, shown this once.", created)},
                (400,),
                body=json_body(
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "expiresInDays": {"type": "integer", "minimum": 1},
                        },
                        "required": ["name"],
                    }
                ),
            ),
        },
        "/tokens/{id}": {
            "delete": operation(
                "tokens.revoke",
                "Revoke a personal API token",
                [TOKENS],
                {"204": {"description": "Revoked."}},
                (404,),
                parameters=[
                    path_parameter(
                        "id",
                        "The token's id.",
                        {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                    )
                ],
            )
        },
    }


def admin_paths(snapshot: MetadataSnapshot) -> dict[str, Any]:
    role = path_parameter("role", "A role name.", {"type": "string"})
    entity = entity_parameter("entity", snapshot)
    field = path_parameter(
        "field", "A field of the entity.", {"type": "string", "pattern": FIELD_NAME_PATTERN}
    )
    grant = {
        "type": "object",
        "properties": {
            "actions": {"type": "array", "items": {"enum": list(ENTITY_ACTIONS)}},
            "scope": {"enum": list(SCOPES)},
            "fields": {"type": "object"},
        },
    }
    user = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "email": {"type": "string"},
            "firstName": {"type": "string"},
            "lastName": {"type": "string"},
            "active": {"type": "boolean"},
            "roles": {"type": "array", "items": {"type": "string"}},
        },
    }
    field_rights = {
        "type": "object",
        "properties": {"read": {"type": "boolean"}, "write": {"type": "boolean"}},
        "required": ["read", "write"],
    }
    role_schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "entities": {"type": "object", "additionalProperties": grant},
        },
    }
    return {
        "/admin/roles": {
            "get": operation(
                "admin.roles.list",
                "Roles with their entity grants",
                [ADMIN],
                {
                    "200": json_response(
                        "The roles.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": role_schema}},
                        },
                    )
                },
                (403,),
            ),
            "post": operation(
                "admin.roles.create",
                "Create a role",
                [ADMIN],
                {"201": json_response("Created.", role_schema)},
                (400, 403, 409, 422),
                body=json_body(
                    {
                        "type": "object",
                        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 64}},
                        "required": ["name"],
                    }
                ),
            ),
        },
        "/admin/roles/{role}/entities/{entity}": {
            "put": operation(
                "admin.grants.set",
                "Set what a role may do with an entity",
                [ADMIN],
                {"200": json_response("The role's grant on the entity.", grant)},
                (400, 403, 404, 422),
                parameters=[role, entity],
                body=json_body(
                    {
                        "type": "object",
                        "properties": {
                            "actions": grant["properties"]["actions"],
                            "scope": grant["properties"]["scope"],
                        },
                    }
                ),
            )
        },
        "/admin/roles/{role}/entities/{entity}/fields/{field}": {
            "put": operation(
                "admin.fields.secure",
                "Secure a field and set a role's rights on it",
                [ADMIN],
                {"200": json_response("The rule.", {"type": "object"})},
                (400, 403, 404, 422),
                parameters=[role, entity, field],
                body=json_body(field_rights),
            ),
            "delete": operation(
                "admin.fields.unsecure",
                "Remove a role's rule on a field",
                [ADMIN],
                {"204": {"description": "Removed."}},
                (403, 404),
                parameters=[role, entity, field],
            ),
        },
        "/admin/users": {
            "get": operation(
                "admin.users.list",
                "Users",
                [ADMIN],
                {
                    "200": json_response(
                        "The users.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": user}},
                        },
                    )
                },
                (403,),
            ),
            "post": operation(
                "admin.users.create",
                "Create a user",
                [ADMIN],
                {"201": json_response("Created.", user)},
                (400, 403, 409, 422),
                description="422: a value does not fit, or a role named in `roles` does not "
                "exist; 409: the user name or e-mail address is taken.",
                body=json_body(
                    {
                        "type": "object",
                        "properties": {
                            "username": {"type": "string", "minLength": 1},
                            "email": {"type": "string", "minLength": 1},
                            "password": {"type": "string", "minLength": 1},
                            "firstName": {"type": "string"},
                            "lastName": {"type": "string"},
                            "roles": {"type": "array", "items": {"type": "string"}},
                        },
                        "required": ["username", "email", "password"],
                    }
                ),
            ),
        },
        "/admin/users/{id}": {
            "patch": operation(
                "admin.users.update",
                "Activate, deactivate or change the roles of a user",
                [ADMIN],
                {"200": json_response("The user.", user)},
                (400, 403, 404, 422),
                parameters=[
                    path_parameter(
                        "id",
                        "The user's id.",
                        {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                    )
                ],
                body=json_body(
                    {
                        "type": "object",
                        "properties": {
                            "active": {"type": "boolean"},
                            "roles": {"type": "array", "items": {"type": "string"}},
                        },
                    }
                ),
            )
        },
        **team_paths(),
    }


def team_paths() -> dict[str, Any]:
    """Teams: the groups whose members share records under the ``team`` record scope."""
    text = {"type": "string", "pattern": r"^[^\x00-\x1f\x7f]*$"}
    name = {
        **text,
        "minLength": 1,
        "maxLength": LIMITS["name"],
        "pattern": r"^[^\s/\x00-\x1f\x7f]([^/\x00-\x1f\x7f]*[^\s/\x00-\x1f\x7f])?$",
    }
    members = {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "description": "User names: every member (a PATCH replaces the list).",
    }
    team = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "members": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "label", "members"],
    }
    fields = {
        "name": name,
        "label": {**text, "maxLength": LIMITS["label"]},
        "description": {"type": ["string", "null"], "maxLength": LIMITS["description"]},
        "members": members,
    }
    team_name = path_parameter("name", "A team's name.", {"type": "string", "minLength": 1})
    return {
        "/admin/teams": {
            "get": operation(
                "admin.teams.list",
                "Teams with their members",
                [ADMIN],
                {
                    "200": json_response(
                        "The teams, by name.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": team}},
                            "required": ["items"],
                        },
                    )
                },
                (403,),
            ),
            "post": operation(
                "admin.teams.create",
                "Create a team",
                [ADMIN],
                {"201": json_response("Created.", team)},
                (400, 403, 409, 422),
                description="422: a value does not fit, or a member names no user; 409: the "
                "name is taken.",
                body=json_body(
                    {
                        "type": "object",
                        "properties": fields,
                        "required": ["name"],
                        "additionalProperties": False,
                    }
                ),
            ),
        },
        "/admin/teams/{name}": {
            "get": operation(
                "admin.teams.get",
                "A team with its members",
                [ADMIN],
                {"200": json_response("The team.", team)},
                (403, 404),
                parameters=[team_name],
            ),
            "patch": operation(
                "admin.teams.update",
                "Rename a team, change its label or description, or set its members",
                [ADMIN],
                {"200": json_response("The team.", team)},
                (400, 403, 404, 409, 422),
                description="Members take effect on the members' next request.",
                parameters=[team_name],
                body=json_body(
                    {"type": "object", "properties": fields, "additionalProperties": False}
                ),
            ),
            "delete": operation(
                "admin.teams.delete",
                "Delete a team (its members and their records stay)",
                [ADMIN],
                {"204": {"description": "Deleted."}},
                (403, 404),
                parameters=[team_name],
            ),
        },
    }


def login_paths() -> dict[str, Any]:
    """Flask-AppBuilder's login; its errors are FAB's ``{"message"}``, not problems."""
    message = {
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}},
                }
            }
        }
    }
    return {
        "/security/login": {
            "post": {
                "operationId": "security.login",
                "summary": "Log in: a JWT for the `Authorization: Bearer` header",
                "tags": [LOGIN],
                "security": [],
                "requestBody": json_body(
                    {
                        "type": "object",
                        "properties": {
                            "username": {"type": "string"},
                            "password": {"type": "string", "format": "password"},
                            "provider": {"enum": ["db", "ldap"], "default": "db"},
                            "refresh": {"type": "boolean"},
                        },
                        "required": ["username", "password", "provider"],
                    }
                ),
                "responses": {
                    "200": json_response(
                        "Logged in.",
                        {
                            "type": "object",
                            "properties": {
                                "access_token": {"type": "string"},
                                "refresh_token": {"type": "string"},
                            },
                            "required": ["access_token"],
                        },
                    ),
                    "400": {"description": "Malformed request.", **message},
                    "401": {"description": "Wrong user name or password.", **message},
                },
            }
        }
    }
