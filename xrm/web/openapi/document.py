"""The OpenAPI 3.1 document of the REST API, built from one metadata snapshot.

Pure: a snapshot in, a JSON-ready dict out; the routes cache it per metadata version.
"""

from __future__ import annotations

from typing import Any

from ... import __version__
from ...metadata.compiler import MetadataSnapshot
from .administration import ADMIN, LOGIN, TOKENS, admin_paths, login_paths, token_paths
from .analytics import VIEWS, aggregate_paths, view_paths
from .audit import audit_paths
from .common import (
    HEADERS,
    PARAMETERS,
    PROBLEM_ITEM_SCHEMA,
    PROBLEM_SCHEMA,
    error_components,
    schema_ref,
)
from .jobs import INBOX, JOBS, inbox_paths, jobs_paths
from .metadata import META, metadata_paths
from .plugins import PLUGINS, plugin_paths
from .query_parameters import SHARED_PARAMETERS
from .record_schemas import SHARED_SCHEMAS, entity_schemas
from .records import BIN, entity_paths, recycle_bin_paths
from .transfer import SCHEMAS as TRANSFER_SCHEMAS
from .transfer import transfer_paths
from .workflows import WORKFLOWS, workflow_paths

OPENAPI_VERSION = "3.1.0"

DESCRIPTION = """\
The REST API of this xRM instance, generated from its current metadata: every entity has its
own record endpoints, with one filter parameter per field.

**Authentication**: `POST /security/login` with `{"username", "password", "provider": "db"}`
answers an `access_token`; send it as `Authorization: Bearer <token>`. Personal API tokens
(`POST /tokens`) go in the same header. In a browser, the session of the web UI works too
(requests that change data then need the `X-CSRFToken` header).

**Errors** are `application/problem+json` (RFC 9457), with every field problem in `errors`.
**Concurrency**: records carry an `ETag`; `If-Match` makes a change conditional (`412`),
`If-None-Match` a read (`304`).
"""

SHARED_COMPONENT_SCHEMAS: dict[str, Any] = {
    "Problem": PROBLEM_SCHEMA,
    "ProblemItem": PROBLEM_ITEM_SCHEMA,
    "EntityDefinition": {
        "type": "object",
        "description": "An entity definition: a JSON Schema (2020-12) document describing "
        "one record, with `x-xrm` keywords. Its meta-schema is `GET /meta/schemas/entity`.",
    },
    "DefinitionChange": {
        "type": "object",
        "properties": {
            "definitions": {"type": "array", "items": schema_ref("EntityDefinition")},
            "removed": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Names of entities to remove.",
            },
        },
    },
    "MigrationPlan": {
        "type": "object",
        "properties": {
            "baseVersion": {"type": "integer"},
            "risk": {"type": "string"},
            "operations": {"type": "array", "items": {"type": "object"}},
            "problems": {"type": "array", "items": {"type": "object"}},
            "optionSets": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["baseVersion", "risk", "operations"],
    },
}


def build_document(snapshot: MetadataSnapshot, server_url: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API at ``snapshot``'s metadata version."""
    schemas: dict[str, Any] = dict(SHARED_COMPONENT_SCHEMAS)
    schemas.update(SHARED_SCHEMAS)
    schemas.update(TRANSFER_SCHEMAS)
    paths: dict[str, Any] = {}
    tags = []
    for name, ce in snapshot.entities.items():
        schemas.update(entity_schemas(ce, snapshot))
        paths.update(entity_paths(ce))
        paths.update(transfer_paths(ce))
        paths.update(aggregate_paths(ce))
        tags.append(
            {
                "name": name,
                "description": ce.definition.description
                or f"Records of {ce.definition.label_plural or ce.definition.label}.",
            }
        )
    paths.update(metadata_paths(snapshot))
    paths.update(recycle_bin_paths(snapshot))
    paths.update(token_paths())
    paths.update(admin_paths(snapshot))
    paths.update(plugin_paths())
    paths.update(audit_paths())
    paths.update(login_paths())
    paths.update(workflow_paths(snapshot))
    paths.update(jobs_paths())
    paths.update(inbox_paths())
    paths.update(view_paths(snapshot))
    tags += [
        {"name": META, "description": "Entity definitions: read, plan, apply."},
        {"name": BIN, "description": "Deleted records: restore or purge."},
        {"name": TOKENS, "description": "Personal API tokens of the caller."},
        {"name": ADMIN, "description": "Roles, grants, field security and users."},
        {"name": LOGIN, "description": "Flask-AppBuilder's API login."},
        {"name": PLUGINS, "description": "Plugin lifecycle: install, upgrade, enable, uninstall."},
        {"name": WORKFLOWS, "description": "Workflows, rule sets, transitions and approvals."},
        {"name": JOBS, "description": "Outbox messages: dead letters, run logs, retry."},
        {"name": INBOX, "description": "The caller's in-app notifications."},
        {"name": VIEWS, "description": "Saved list and board views, personal and shared."},
    ]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "xRM API",
            "version": f"{__version__}+metadata.{snapshot.version}",
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": error_components(),
            "parameters": {**PARAMETERS, **SHARED_PARAMETERS},
            "headers": HEADERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT from `POST /security/login`, or a personal API "
                    "token (`xrm_...`) from `POST /tokens`.",
                }
            },
        },
        "x-xrm-metadata-version": snapshot.version,
    }
