"""Pieces every operation of the document shares: the Problem schema, error responses, the
ETag/If-Match/If-None-Match headers, and small builders for operations and JSON content."""

from __future__ import annotations

from typing import Any

from ...metadata.compiler import MetadataSnapshot
from ...metadata.names import ENTITY_NAME_PATTERN

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"

#: Largest id a record can have (ids are 64-bit integers); a larger one is not a route match.
MAX_ID = 2**63 - 1

ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Malformed request or query; the detail names the parameter."),
    401: ("Unauthorized", "No credentials, or credentials that are invalid or expired."),
    403: ("Forbidden", "Authenticated, but not allowed to do this."),
    404: ("NotFound", "No such entity or record (or the record is outside your record scope)."),
    409: (
        "Conflict",
        "A unique value is taken, a delete is restricted by references, or the metadata "
        "changed since the plan.",
    ),
    412: ("PreconditionFailed", "`If-Match` does not name the record's current version."),
    422: ("Unprocessable", "Invalid values: every problem is listed in `errors`."),
    429: ("TooManyRequests", "The caller's rate limit is exhausted; retry after `Retry-After`."),
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details).",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "Always `about:blank`."},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, naming the culprit."},
        "errors": {
            "description": "One entry per problem (field, query parameter or definition part).",
            "type": "array",
            "items": {"$ref": "#/components/schemas/ProblemItem"},
        },
        "report": {
            "description": "The refused migration's report (409 from plan/apply).",
            "type": "object",
        },
        "usedBy": {
            "description": "What still uses the thing that could not be deleted (409 from "
            "deleting an option set: `entity.field` names).",
            "type": "array",
            "items": {"type": "string"},
        },
    },
    "required": ["type", "title", "status", "detail"],
}

PROBLEM_ITEM_SCHEMA: dict[str, Any] = {
    "title": "ProblemItem",
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "pointer": {"type": "string", "description": "JSON pointer into the request body."},
        "field": {"type": "string"},
        "parameter": {"type": "string", "description": "The query parameter at fault."},
        "operator": {"type": "string"},
        "value": {},
        "index": {"type": "integer", "description": "Position in a bulk request."},
    },
}

HEADERS: dict[str, Any] = {
    "ETag": {
        "description": 'The record\'s version, `"<id>-<row_version>"`: send it back in '
        "`If-Match` to change the record only if nobody else did, or in `If-None-Match`.",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "URL of the created record.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before the next request.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "MetadataVersion": {
        "description": "The metadata version the answer was computed at.",
        "schema": {"type": "integer"},
    },
}

PARAMETERS: dict[str, Any] = {
    "RecordId": {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The record's id.",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "Only change the record if its current `ETag` is this one; `412` if it "
        "changed since. `*` or no header: unconditional.",
        "schema": {"type": "string"},
    },
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "The `ETag` you hold: `304 Not Modified` while the record is unchanged.",
        "schema": {"type": "string"},
    },
}


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> dict[str, str]:
    return ref("schemas", name)


def json_body(schema: dict[str, Any], description: str = "", required: bool = True) -> dict:
    body: dict[str, Any] = {"required": required, "content": {JSON: {"schema": schema}}}
    if description:
        body["description"] = description
    return body


def json_response(
    description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    res: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        res["headers"] = headers
    return res


def error_components() -> dict[str, Any]:
    """The shared error responses, one per status (``#/components/responses/<Name>``)."""
    out = {}
    for status, (name, description) in ERROR_RESPONSES.items():
        res: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM_JSON: {"schema": schema_ref("Problem")}},
        }
        if status == 429:
            res["headers"] = {"Retry-After": ref("headers", "RetryAfter")}
        out[name] = res
    return out


def operation(
    operation_id: str,
    summary: str,
    tags: list[str],
    responses: dict[str, Any],
    errors: tuple[int, ...],
    *,
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """One operation. Every authenticated operation may answer 401, and every one 429."""
    codes = set(errors) | {429}
    if not public:
        codes.add(401)
    all_responses = dict(responses)
    for status in sorted(codes):
        all_responses[str(status)] = ref("responses", ERROR_RESPONSES[status][0])
    op: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": tags}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    op["responses"] = all_responses
    if public:
        op["security"] = []
    return op


def path_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def entity_parameter(name: str, snapshot: MetadataSnapshot, existing: bool = True) -> dict:
    """An entity name; ``existing``: one of the current entities (a list to pick from)."""
    schema: dict[str, Any] = {"type": "string", "pattern": ENTITY_NAME_PATTERN}
    if existing and snapshot.entities:
        schema = {"enum": sorted(snapshot.entities)}
    return path_parameter(name, "An entity name such as `crm.contact`.", schema)
