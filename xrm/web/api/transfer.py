"""CSV/XLSX import and export of an entity's records over HTTP (thin: xrm.core.transfer)."""

from __future__ import annotations

import json
import tempfile

from flask import Response, current_app, jsonify, request, send_file, stream_with_context
from werkzeug.exceptions import BadRequest

from ...core.transfer import ImportOptions, export_csv, export_xlsx, import_file
from ...metadata.database import writing
from ..auth import current_actor
from . import api
from .data import query_scopes

OPTION_ARGS = ("format", "header", "delimiter")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _import_options() -> ImportOptions:
    values = request.values
    mapping = values.get("mapping")
    if mapping:
        try:
            mapping = json.loads(mapping)
        except ValueError:
            raise BadRequest("'mapping' is a JSON object of column -> field (or null)") from None
        if not isinstance(mapping, dict):
            raise BadRequest("'mapping' is a JSON object of column -> field (or null)")
    key = tuple(k.strip() for k in (values.get("key") or "").split(",") if k.strip())
    try:
        return ImportOptions(
            mapping=mapping or {},
            key=key,
            mode=values.get("mode", "all_or_nothing"),
            dry_run=_truthy(values.get("dryRun")),
            empty_cells=values.get("emptyCells", "null"),
        )
    except ValueError as exc:
        raise BadRequest(f"invalid import option: {exc}") from None


@api.post("/data/<entity>/import")
def import_records(entity: str):
    """Import a CSV or XLSX file (multipart field ``file``). Options as form fields or query
    parameters: ``mapping`` (JSON), ``key`` (comma-separated unique fields, or ``id``), ``mode``
    (``all_or_nothing`` | ``skip_bad_rows``), ``dryRun``, ``emptyCells`` (``null`` | ``keep``)."""
    actor = current_actor()
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the file as the multipart field 'file'")
    options = _import_options()
    name = (upload.filename or "").lower()
    fmt = "xlsx" if name.endswith(".xlsx") or upload.mimetype == XLSX else "csv"
    p = current_app.extensions["xrm"]
    with writing(p.engine) as conn:
        access = p.records.access(conn, actor)
        p.registry.snapshot(conn).entity(entity)
        access.require(entity, "import")
        report = import_file(
            p.records, conn, actor, entity, upload.stream.read(), options, access=access, format=fmt
        )
    status = 200 if report.ok or options.dry_run or options.mode == "skip_bad_rows" else 422
    return jsonify(report.as_dict()), status


@api.get("/data/<entity>/export")
def export_records(entity: str):
    """Export the records a list query selects (same filters, order, select) as CSV or XLSX."""
    actor = current_actor()
    fmt = request.args.get("format", "csv")
    header = request.args.get("header", "label")
    if fmt not in ("csv", "xlsx") or header not in ("label", "name"):
        raise BadRequest("format is csv or xlsx; header is label or name")
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in OPTION_ARGS]
    p = current_app.extensions["xrm"]
    secret = current_app.config["SECRET_KEY"].encode()
    # Check rights and the query before the first byte is sent.
    with p.engine.connect() as conn:
        access = p.records.access(conn, actor)
        snap = p.registry.snapshot(conn)
        snap.entity(entity)
        access.require(entity, "read")
        access.require(entity, "export")
        scopes, hidden = query_scopes(access, snap)
        if fmt == "xlsx":
            out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
            export_xlsx(
                conn,
                snap,
                entity,
                out,
                params,
                scopes=scopes,
                hidden=hidden,
                header=header,
                cursor_secret=secret,
            )
            out.seek(0)
            return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"{entity}.xlsx")
        first = next(
            iter(
                export_csv(
                    conn,
                    snap,
                    entity,
                    params,
                    scopes=scopes,
                    hidden=hidden,
                    header=header,
                    cursor_secret=secret,
                )
            ),
            b"",
        )

    def stream():
        yield first  # the header row, already produced (and the query checked) above
        with p.engine.connect() as conn:
            snap = p.registry.snapshot(conn)
            scopes, hidden = query_scopes(access, snap)
            chunks = export_csv(
                conn,
                snap,
                entity,
                params,
                scopes=scopes,
                hidden=hidden,
                header=header,
                cursor_secret=secret,
            )
            next(chunks, None)  # skip the header row
            yield from chunks

    return Response(
        stream_with_context(stream()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{entity}.csv"'},
    )
