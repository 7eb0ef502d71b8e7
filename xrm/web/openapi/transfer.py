"""The import and export endpoints of each entity, as OpenAPI (``POST /data/<e>/import``,
``GET /data/<e>/export``): their options, the uploaded file, the report and the errors.
Guide: docs/import-export.md."""

from __future__ import annotations

from typing import Any

from ...metadata.compiler import CompiledEntity
from .common import JSON, PROBLEM_JSON, operation, ref, schema_ref
from .query_parameters import filter_parameters

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Import options: (name, JSON Schema, description). Sent as form fields or query parameters.
IMPORT_OPTIONS: list[tuple[str, dict[str, Any], str]] = [
    (
        "mapping",
        {"type": "string"},
        "A JSON object mapping column headers to field names (or `null` to ignore a column), "
        'e.g. `{"E-Mail address": "email", "Notes": null}`. Columns it does not name are '
        "matched to a field whose name or label equals the header, ignoring case.",
    ),
    (
        "key",
        {"type": "string"},
        "Upsert: `id`, or the comma-separated fields of a unique key (`email`, `first,last`). "
        "A row whose key matches a record updates it (only the fields that differ); otherwise "
        "it creates one. Without a key every row creates a record.",
    ),
    (
        "mode",
        {"enum": ["all_or_nothing", "skip_bad_rows"], "default": "all_or_nothing"},
        "`all_or_nothing`: one bad row and nothing is written (`422` with the report). "
        "`skip_bad_rows`: good rows are written, bad rows reported.",
    ),
    (
        "dryRun",
        {"enum": ["true", "false", "1", "0", "yes", "no"], "default": "false"},
        "Check every row and report what would happen; write nothing.",
    ),
    (
        "emptyCells",
        {"enum": ["null", "keep"], "default": "null"},
        "`null`: an empty cell clears the field of an existing record. `keep`: it leaves the "
        "field as it is. On a new record an empty cell is not given either way (the default "
        "applies).",
    ),
]

IMPORT_REPORT_SCHEMA: dict[str, Any] = {
    "title": "ImportReport",
    "description": "What an import did (or, for a dry run or a refused all-or-nothing import, "
    "would do with a clean file).",
    "type": "object",
    "properties": {
        "entity": {"type": "string"},
        "mode": {"enum": ["all_or_nothing", "skip_bad_rows"]},
        "dryRun": {"type": "boolean"},
        "key": {"type": "array", "items": {"type": "string"}},
        "written": {
            "type": "boolean",
            "description": "Whether the rows were written: false for a dry run and for an "
            "all-or-nothing import with a bad row.",
        },
        "rows": {"type": "integer", "description": "Data rows read (blank rows not counted)."},
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "skipped": {"type": "integer", "description": "Bad rows."},
        "errors": {
            "type": "array",
            "description": "Every problem of every bad row (a row may have several).",
            "items": {
                "type": "object",
                "properties": {
                    "row": {
                        "type": "integer",
                        "description": "Row number as a spreadsheet shows it (header: 1).",
                    },
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                    "pointer": {"type": "string"},
                    "column": {"type": "string", "description": "The column's header."},
                },
                "required": ["row", "message"],
            },
        },
        "columns": {
            "type": "object",
            "description": "Column header -> the field it was imported into.",
            "additionalProperties": {"type": "string"},
        },
        "ignoredColumns": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"column": {"type": "string"}, "reason": {"type": "string"}},
                "required": ["column", "reason"],
            },
        },
    },
    "required": [
        "entity",
        "mode",
        "dryRun",
        "key",
        "written",
        "rows",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "errors",
        "columns",
        "ignoredColumns",
    ],
}

SCHEMAS: dict[str, Any] = {"ImportReport": IMPORT_REPORT_SCHEMA}


def transfer_paths(ce: CompiledEntity) -> dict[str, Any]:
    name, label = ce.name, ce.definition.label
    plural = ce.definition.label_plural or label
    base = f"/data/{name}"
    tags = [name]
    report = schema_ref("ImportReport")
    return {
        f"{base}/import": {
            "post": operation(
                f"{name}.import",
                f"Import {plural} from a CSV or XLSX file",
                tags,
                {
                    "200": {
                        "description": "The report: what was created, updated, left unchanged "
                        "and every bad row (a dry run, or skip-bad-rows, answers 200 with bad "
                        "rows too).",
                        "content": {JSON: {"schema": report}},
                    },
                    "422": {
                        "description": "All-or-nothing import refused: nothing was written; the "
                        "report lists every bad row. Or (problem details) the columns cannot be "
                        "mapped as asked: every problem names the column and the field.",
                        "content": {
                            JSON: {"schema": report},
                            PROBLEM_JSON: {"schema": schema_ref("Problem")},
                        },
                    },
                },
                (400, 403, 404),
                description="Every row goes through the record service, as a record saved in "
                "a form: permission (`import`, and `create`/`update`), field rights, "
                "validation (text cells read leniently: `yes`/`no`, `12.50 EUR`, option "
                "labels...), references, uniqueness (also against earlier rows of the file), "
                "plugin hooks, audit and outbox. Options go as form fields or query "
                "parameters. `400`: no file, an unreadable file (not CSV or XLSX, wrong "
                "encoding, no header) or an invalid option.",
                parameters=[
                    {
                        "name": option,
                        "in": "query",
                        "required": False,
                        "description": text,
                        "schema": schema,
                    }
                    for option, schema, text in IMPORT_OPTIONS
                ],
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "format": "binary",
                                        "description": "The CSV (UTF-8, comma, semicolon or "
                                        "tab) or XLSX file; row 1 holds the headers. A name "
                                        "ending in .xlsx, or the XLSX media type, reads it as "
                                        "XLSX.",
                                    },
                                    **{
                                        option: {**schema, "description": text}
                                        for option, schema, text in IMPORT_OPTIONS
                                    },
                                },
                                "required": ["file"],
                            },
                            "encoding": {"file": {"contentType": f"text/csv, {XLSX}"}},
                        }
                    },
                },
            )
        },
        f"{base}/export": {
            "get": operation(
                f"{name}.export",
                f"Export {plural} as CSV or XLSX",
                tags,
                {
                    "200": {
                        "description": "The records the query selects, with the fields you may "
                        "read: `id`, then the selected fields. CSV is streamed (UTF-8, RFC 4180 "
                        "quoting); the file imports back unchanged.",
                        "headers": {
                            "Content-Disposition": {
                                "description": "`attachment; filename=<entity>.csv|.xlsx`",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            XLSX: {"schema": {"type": "string", "format": "binary"}},
                        },
                    }
                },
                (400, 403, 404),
                description="Takes a list's query (filters, `order`, `select`; see the list "
                "operation) and exports every matching record, not just a page. Expanded "
                "references cannot be exported (select the reference field itself). Needs the "
                "`read` and `export` permissions.",
                parameters=[
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "description": "`csv` (streamed) or `xlsx` (a workbook).",
                        "schema": {"enum": ["csv", "xlsx"], "default": "csv"},
                    },
                    {
                        "name": "header",
                        "in": "query",
                        "required": False,
                        "description": "Header row: field labels or field names (both import "
                        "back).",
                        "schema": {"enum": ["label", "name"], "default": "label"},
                    },
                    *filter_parameters(ce),
                    *(ref("parameters", p) for p in ("Or", "And", "NotOr", "NotAnd")),
                    {
                        "name": "order",
                        "in": "query",
                        "required": False,
                        "description": "Sort order, as for the list: `field[.asc|.desc]`, "
                        "comma-separated.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "select",
                        "in": "query",
                        "required": False,
                        "description": "The fields to export, comma-separated (default: every "
                        "readable field, system fields last).",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": "Export at most this many records.",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
            )
        },
    }
