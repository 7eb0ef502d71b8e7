"""Record endpoints: /api/v1/data/<entity>[/<id>] for every entity, present and future.

Thin: parse the request, call the record service or the query runner with the caller's access,
render JSON. Each request runs in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, PreconditionFailed

from ...core.query import run_query
from ...core.query.plans import PlanCache
from ...core.records import recyclebin
from ...core.records.errors import RecordError, RecordInvalid, RecordNotFound
from ...core.tables import outbox
from ...metadata.database import reading, writing
from ..auth import current_actor
from . import api, entity_arg

BULK_LIMIT = 1000
#: Ids are 64-bit; a larger number cannot name a record (and must not reach SQL).
MAX_ID = 2**63 - 1


def _platform():
    return current_app.extensions["xrm"]


@contextmanager
def _request_context(write: bool = False):
    """(conn, actor, access, snapshot) for this request: in one writing transaction when it
    writes (:func:`xrm.metadata.database.writing`), else on a reading connection
    (:func:`xrm.metadata.database.reading`)."""
    p = _platform()
    with writing(p.engine) if write else reading(p.engine) as conn:
        actor = current_actor(conn)
        access = p.records.access(conn, actor)
        snap = p.registry.snapshot(conn)
        yield conn, actor, access, snap


def query_scopes(access, snap) -> tuple[Mapping, Mapping]:
    """Scopes and hidden fields of every entity, for the query runner (expansions included),
    looked up when the query reaches an entity (a list reads one or a few of them)."""
    return _Scopes(access, snap), _Hidden(access, snap)


class _PerEntity(Mapping):
    """A mapping over the snapshot's entities, computed for the entities a query asks about
    (``__getitem__``); never empty, so nobody counts it to find out."""

    def __init__(self, access, snap):
        self._access, self._snap = access, snap

    def __iter__(self):
        return (name for name in self._snap.entities if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return True


class _Scopes(_PerEntity):
    """entity -> the SQL scope of its records (``false`` when the caller may not read it;
    absent when unrestricted), computed for the entities a query reaches."""

    def __init__(self, access, snap):
        super().__init__(access, snap)
        self._found: dict[str, Any] = {}

    def __getitem__(self, name: str):
        try:
            clause = self._found[name]
        except KeyError:
            clause = self._found[name] = self._clause(name)
        if clause is None:
            raise KeyError(name)
        return clause

    def _clause(self, name: str):
        ce = self._snap.entities.get(name)
        if ce is None:
            return None
        if not self._access.can(name, "read"):
            return sa.false()
        return self._access.scope_clause(name, ce.table)


class _Hidden(_PerEntity):
    """entity -> the fields it hides from the caller (absent when none)."""

    def __getitem__(self, name: str):
        hidden = None
        if name in self._snap.entities and self._access.can(name, "read"):
            hidden = self._access.hidden(name)
        if not hidden:
            raise KeyError(name)
        return hidden


def _plans() -> PlanCache:
    """The application's cached query plans (:mod:`xrm.core.query.plans`)."""
    found = current_app.extensions.get("xrm_query_plans")
    if found is None:
        found = current_app.extensions.setdefault("xrm_query_plans", PlanCache())
    return found


def _etag(record: dict) -> str:
    return f'"{record["id"]}-{record["row_version"]}"'


def _number(text: str) -> int | None:
    """A non-negative 64-bit integer written in ASCII digits, else None (``str.isdigit``
    also accepts digits such as "²" that ``int`` refuses)."""
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return int(text)
    return None


def _existing_id(entity: str, record_id: int) -> int:
    """404 for an id beyond 64 bits (the URL converter accepts any number of digits)."""
    if record_id > MAX_ID:
        raise RecordNotFound(f"{entity} {record_id} does not exist")
    return record_id


def _if_match_version(record_id: int) -> int | None:
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    rid, _, version = tag.partition("-")
    expected = _number(version)
    if rid != str(record_id) or expected is None:
        raise PreconditionFailed("If-Match does not name a version of this record")
    return expected


def _record_response(record: dict, status: int = 200) -> Response:
    res = jsonify(record)
    res.status_code = status
    res.headers["ETag"] = _etag(record)
    return res


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


@api.get("/data/<entity>")
def list_records(entity: str):
    with _request_context() as (conn, _actor, access, snap):
        snap.entity(entity)
        access.require(entity, "read")
        scopes, hidden = query_scopes(access, snap)
        result = run_query(
            conn,
            snap,
            entity,
            request.args,
            scopes=scopes,
            hidden=hidden,
            cursor_secret=current_app.config["SECRET_KEY"].encode(),
            plans=_plans(),
        )
    body = {"items": result.items, "nextCursor": result.next_cursor}
    if result.count is not None:
        body["count"] = result.count
        body["countCapped"] = result.count_capped
    return jsonify(body)


@api.post("/data/<entity>")
def create_record(entity: str):
    data = _json_body()
    with _request_context(write=True) as (conn, actor, access, snap):
        snap.entity(entity)
        record = _platform().records.create(conn, actor, entity, data, access=access)
    res = _record_response(record, 201)
    res.headers["Location"] = url_for("xrm_api.get_record", entity=entity, record_id=record["id"])
    return res


@api.get("/data/<entity>/<int:record_id>")
def get_record(entity: str, record_id: int):
    _existing_id(entity, record_id)
    with _request_context() as (conn, actor, access, _snap):
        record = _platform().records.get(conn, actor, entity, record_id, access=access)
    etag = _etag(record)
    # From the environ: a missing header costs Werkzeug's Headers.get an exception.
    if request.environ.get("HTTP_IF_NONE_MATCH", "").strip() in (etag, f"W/{etag}"):
        return Response(status=304, headers={"ETag": etag})
    return _record_response(record)


@api.patch("/data/<entity>/<int:record_id>")
def update_record(entity: str, record_id: int):
    _existing_id(entity, record_id)
    data = _json_body()
    expected = _if_match_version(record_id)
    with _request_context(write=True) as (conn, actor, access, _snap):
        record = _platform().records.update(
            conn, actor, entity, record_id, data, expected, access=access
        )
    return _record_response(record)


@api.delete("/data/<entity>/<int:record_id>")
def delete_record(entity: str, record_id: int):
    _existing_id(entity, record_id)
    expected = _if_match_version(record_id)
    with _request_context(write=True) as (conn, actor, access, _snap):
        _platform().records.delete(conn, actor, entity, record_id, expected, access=access)
    return Response(status=204)


@api.get("/data/<entity>/<int:record_id>/history")
def record_history(entity: str, record_id: int):
    _existing_id(entity, record_id)
    with _request_context() as (conn, actor, access, _snap):
        items = _platform().records.history(conn, actor, entity, record_id, access=access)
    return jsonify({"items": items})


@api.post("/data/<entity>/bulk")
def bulk(entity: str):
    """Create, update or upsert up to 1,000 records. ``atomic`` (default true): all or nothing;
    otherwise each record gets its own result. Upsert matches on ``key`` (a unique field set)."""
    body = _json_body()
    records = body.get("records")
    mode = body.get("mode", "create")
    atomic = body.get("atomic", True)
    key = body.get("key") or []
    if not isinstance(records, list) or not records:
        raise BadRequest("'records' must be a non-empty list")
    if len(records) > BULK_LIMIT:
        raise BadRequest(f"at most {BULK_LIMIT} records per request ({len(records)} given)")
    if mode not in ("create", "update", "upsert"):
        raise BadRequest("'mode' is one of create, update, upsert")
    if mode == "upsert" and (not isinstance(key, list) or not key):
        raise BadRequest("'key' (a list of fields forming a unique key) is required for upsert")
    with _request_context(write=True) as (conn, actor, access, snap):
        ce = snap.entity(entity)
        if mode == "create":
            results = _bulk_create(conn, actor, access, entity, records, atomic)
        else:
            results = (
                _bulk_update(conn, actor, access, ce, records, atomic)
                if mode == "update"
                else _bulk_upsert(conn, actor, access, ce, key, records, atomic)
            )
        if results is None:  # record by record
            known = _Prefetched(conn, actor, access, ce, mode, key, records)
            results = [
                _bulk_write(conn, actor, access, ce, mode, key, rec, i, atomic, known)
                for i, rec in enumerate(records)
            ]
    return jsonify({"results": results}), (
        200 if atomic or all("error" not in r for r in results) else 207
    )


def _not_an_object(i: int) -> RecordInvalid:
    return RecordInvalid(
        f"record {i} is not a JSON object",
        [{"index": i, "pointer": "", "message": "each record must be a JSON object"}],
    )


def _bulk_create(conn, actor, access, entity, records, atomic) -> list[dict]:
    """All the records through RecordService.create_many: checked together, written with a
    few statements."""
    odd = [i for i, rec in enumerate(records) if not isinstance(rec, dict)]
    if odd and atomic:
        raise _not_an_object(odd[0])
    objects = [(i, rec) for i, rec in enumerate(records) if isinstance(rec, dict)]
    created = _platform().records.create_many(
        conn, actor, entity, [rec for _, rec in objects], access=access, atomic=atomic
    )
    results: list[dict] = [_failure(i, _not_an_object(i)) for i in odd]
    for (i, _rec), outcome in zip(objects, created, strict=True):
        if isinstance(outcome, RecordError):
            results.append(_failure(i, outcome))
        else:
            results.append({"index": i, "status": 201, "id": outcome["id"]})
    return sorted(results, key=lambda r: r["index"])


def _failure(i: int, exc: RecordError) -> dict:
    return {"index": i, "status": exc.status, "error": str(exc), "errors": exc.problems}


def _bulk_update(conn, actor, access, ce, records, atomic) -> list[dict] | None:
    """A bulk update through RecordService.update_many (set-based), or None when it must go
    record by record (see there; also an atomic batch with a malformed record, which is
    reported as the record-by-record path reports it)."""
    results: list[dict] = []
    items, where = [], []
    for i, rec in enumerate(records):
        rid = rec.get("id") if isinstance(rec, dict) else None
        if isinstance(rec, dict) and _valid_id(rid):
            items.append((rid, {k: v for k, v in rec.items() if k != "id"}))
            where.append(i)
        elif atomic:
            return None
        else:
            results.append(_failure(i, _update_target_error(ce, rec, i)))
    if not items:
        return None
    written = _platform().records.update_many(
        conn, actor, ce.name, items, access=access, atomic=atomic
    )
    if written is None:
        return None
    for i, outcome in zip(where, written, strict=True):
        if isinstance(outcome, RecordError) and atomic:  # the first refused record, as before
            outcome.problems = [{**p_, "index": i} for p_ in outcome.problems] or [
                {"index": i, "message": str(outcome)}
            ]
            raise outcome
    for i, outcome in zip(where, written, strict=True):
        if isinstance(outcome, RecordError):
            results.append(_failure(i, outcome))
        else:
            results.append({"index": i, "status": 200, "id": outcome["id"]})
    return sorted(results, key=lambda r: r["index"])


def _bulk_upsert(conn, actor, access, ce, key, records, atomic) -> list[dict] | None:
    """A bulk upsert set-based: the keys looked up in a few queries, the existing records
    through RecordService.update_many and the new ones through create_many. None (nothing
    written) when it must go record by record: a record that is not an object or lacks a
    valid key, a key given twice (the second must see the first), a key that is not unique,
    or an update batch that update_many leaves to update."""
    if not all(isinstance(rec, dict) for rec in records):
        return None
    values = [_key_value(ce, key, rec) for rec in records]
    if None in values or len(set(values)) != len(values):
        return None
    ids = _ids_by_key(conn, ce, key, records, access)
    if len(ids) != len(records):
        return None
    service = _platform().records
    updates = [(i, ids[kv]) for i, kv in enumerate(values) if ids[kv] is not None]
    creates = [i for i, kv in enumerate(values) if ids[kv] is None]
    outcomes: dict[int, Any] = {}
    if updates:
        written = service.update_many(
            conn,
            actor,
            ce.name,
            [(rid, records[i]) for i, rid in updates],
            access=access,
            atomic=atomic,
        )
        if written is None:
            return None
        outcomes.update(zip((i for i, _rid in updates), written, strict=True))
    if creates:
        # Not atomic even for an atomic request: each new record gets its own result; the
        # request's transaction is rolled back below when anything was refused.
        made = service.create_many(
            conn, actor, ce.name, [records[i] for i in creates], access=access, atomic=False
        )
        outcomes.update(zip(creates, made, strict=True))
    if atomic:
        refused = [i for i in sorted(outcomes) if isinstance(outcomes[i], RecordError)]
        if refused:
            i = refused[0]  # the first refused record, as record by record
            exc = outcomes[i]
            exc.problems = [{**p_, "index": i} for p_ in exc.problems] or [
                {"index": i, "message": str(exc)}
            ]
            raise exc
    results = []
    for i in sorted(outcomes):
        outcome = outcomes[i]
        if isinstance(outcome, RecordError):
            results.append(_failure(i, outcome))
        else:
            status = 201 if ids[values[i]] is None else 200
            results.append({"index": i, "status": status, "id": outcome["id"]})
    return results


class _Prefetched:
    """What a bulk update or upsert reads in a few queries before writing: the records'
    rows (:meth:`RecordService.prefetch_rows`) and, for an upsert, the ids of the keys. Each
    is used once: a record written twice in one batch, or a key seen twice, is read again
    when its turn comes, so each record still sees the ones written before it."""

    def __init__(self, conn, actor, access, ce, mode, key, records):
        self.rows: dict = {}
        self.keys: dict = {}
        objects = [rec for rec in records if isinstance(rec, dict)]
        ids = []
        if mode == "update":
            ids = [r["id"] for r in objects if _valid_id(r.get("id"))]
        else:
            try:
                self.keys = _ids_by_key(conn, ce, key, objects, access)
            except RecordError:
                self.keys = {}  # reported, record by record, by _find_by_key
            ids = [rid for rid in self.keys.values() if rid is not None]
        if ids:
            records_ = _platform().records
            self.rows = records_.prefetch_rows(conn, actor, ce.name, ids, access)

    def row(self, record_id: int):
        return self.rows.pop(record_id, None)

    def key_id(self, key_value: tuple):
        """(True, id or None) when known, (False, None) when it must be looked up."""
        if key_value in self.keys:
            return True, self.keys.pop(key_value)
        return False, None


def _update_target_error(ce, rec, i: int) -> RecordError:
    """Why ``rec`` (record ``i`` of a bulk update) names no record to update."""
    if not isinstance(rec, dict):
        return _not_an_object(i)
    rid = rec.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        return RecordInvalid(
            "update needs the record's id",
            [{"pointer": "/id", "field": "id", "message": "required"}],
        )
    return RecordNotFound(f"{ce.name} {rid} does not exist")


def _valid_id(rid) -> bool:
    return isinstance(rid, int) and not isinstance(rid, bool) and 0 <= rid <= MAX_ID


def _bulk_write(conn, actor, access, ce, mode, key, rec, i, atomic, known=None) -> dict:
    """One record of an update or upsert (each may see the records written before it)."""
    nested = None if atomic else conn.begin_nested()
    try:
        if not isinstance(rec, dict):
            raise _not_an_object(i)
        status, record = _bulk_one(conn, actor, access, ce, mode, key, rec, known)
    except RecordError as exc:
        if atomic:
            exc.problems = [{**p_, "index": i} for p_ in exc.problems] or [
                {"index": i, "message": str(exc)}
            ]
            raise
        nested.rollback()
        return _failure(i, exc)
    except BaseException:
        if nested is not None:
            nested.rollback()
        raise
    if nested is not None:
        nested.commit()
    return {"index": i, "status": status, "id": record["id"]}


def _bulk_one(conn, actor, access, ce, mode, key, rec, known=None):
    records = _platform().records
    if mode == "create":
        return 201, records.create(conn, actor, ce.name, rec, access=access)
    if mode == "update":
        rid = rec.get("id")
        if not _valid_id(rid):
            raise _update_target_error(ce, rec, 0)
        data = {k: v for k, v in rec.items() if k != "id"}
        row = known.row(rid) if known is not None else None
        return 200, records.update(conn, actor, ce.name, rid, data, access=access, stored_row=row)
    found, existing = False, None
    if known is not None:
        key_value = _key_value(ce, key, rec)
        if key_value is not None:
            found, existing = known.key_id(key_value)
    if not found:
        existing = _find_by_key(conn, ce, key, rec, access)
    if existing is None:
        return 201, records.create(conn, actor, ce.name, rec, access=access)
    row = known.row(existing) if known is not None else None
    return 200, records.update(conn, actor, ce.name, existing, rec, access=access, stored_row=row)


def _key_value(ce, key, rec) -> tuple | None:
    """The upsert key of ``rec`` as column values (None when it is missing or invalid: then
    :func:`_find_by_key` says what is wrong)."""
    if any(rec.get(k) is None for k in key):
        return None
    values, problems = ce.validate({k: rec[k] for k in key}, partial=True)
    if problems:
        return None
    return tuple(sorted(ce.to_row(values).items()))


def _ids_by_key(conn, ce, key, objects, access) -> dict[tuple, int | None]:
    """Key value -> the id of the live record holding it (None: no such record), for every
    key value the records hold once; a key value held by several records of the batch is
    left out (the second must see what the first wrote)."""
    unique_sets = [tuple(sorted(ix.fields)) for ix in ce.definition.all_indexes if ix.unique]
    if tuple(sorted(key)) not in unique_sets:
        return {}
    counts: dict[tuple, int] = {}
    for rec in objects:
        kv = _key_value(ce, key, rec)
        if kv is not None:
            counts[kv] = counts.get(kv, 0) + 1
    wanted = [kv for kv, n in counts.items() if n == 1]
    if not wanted:
        return {}
    out: dict[tuple, int | None] = dict.fromkeys(wanted)
    t = ce.table
    columns = [c for c, _v in wanted[0]]
    for i in range(0, len(wanted), 200):
        chunk = wanted[i : i + 200]
        match = sa.or_(*(sa.and_(*(t.c[c] == v for c, v in kv)) for kv in chunk))
        q = sa.select(t.c.id, *(t.c[c] for c in columns)).where(t.c.deleted_at.is_(None), match)
        for row in conn.execute(q):
            kv = tuple(zip(columns, row[1:], strict=True))
            if kv not in out or out[kv] is not None:
                # The database's value does not compare equal to the one asked for (another
                # type, another spelling): the lookup is not definite, look each one up.
                return {}
            out[kv] = row[0]
    return out


def _find_by_key(conn, ce, key, rec, access):
    unique_sets = [tuple(sorted(ix.fields)) for ix in ce.definition.all_indexes if ix.unique]
    if tuple(sorted(key)) not in unique_sets:
        raise RecordInvalid(
            f"{', '.join(key)} is not a unique key of {ce.name}; declare it unique to upsert by it"
        )
    missing = [k for k in key if rec.get(k) is None]
    if missing:
        raise RecordInvalid(
            f"upsert key field(s) {', '.join(missing)} missing",
            [{"pointer": f"/{k}", "field": k, "message": "required for upsert"} for k in missing],
        )
    values, problems = ce.validate({k: rec[k] for k in key}, partial=True)
    if problems:
        raise RecordInvalid("invalid key", [p.as_dict() for p in problems])
    row = ce.to_row(values)
    t = ce.table
    return conn.execute(
        sa.select(t.c.id).where(t.c.deleted_at.is_(None), *(t.c[c] == v for c, v in row.items()))
    ).scalar()


@api.get("/data/<entity>/changes")
def changes(entity: str):
    """Everything created, updated or deleted since a token (for integrations that sync).
    Pass ``since`` from the previous answer's ``next``; start with 0."""
    since = _number(request.args.get("since", "0"))
    if since is None:
        raise BadRequest("'since' is the token of a previous answer (a number)")
    limit = _number(request.args.get("limit", "500"))
    # At least 1: with 0, "more" would stay true and a sync loop would never end.
    limit = 500 if limit is None else max(1, min(limit, 1000))
    with _request_context() as (conn, _actor, access, snap):
        snap.entity(entity)
        access.require(entity, "read")
        rows = conn.execute(
            sa.select(outbox.c.id, outbox.c.topic, outbox.c.record_id)
            .where(outbox.c.entity == entity, outbox.c.id > since, outbox.c.topic.like("record.%"))
            .order_by(outbox.c.id)
            .limit(limit)
        ).all()
        ids = sorted({r.record_id for r in rows if r.topic != "record.deleted"})
        visible = {}
        if ids:
            scopes, hidden = query_scopes(access, snap)
            for i in range(0, len(ids), 200):
                chunk = ids[i : i + 200]
                res = run_query(
                    conn,
                    snap,
                    entity,
                    {"id": f"in.({','.join(map(str, chunk))})", "limit": "1000"},
                    scopes=scopes,
                    hidden=hidden,
                )
                visible.update({item["id"]: item for item in res.items})
        # Deletions are reported only for records in the caller's scope (the rows still exist,
        # in the recycle bin or purged; a purged record's scope can no longer be checked).
        deleted_ids = sorted({r.record_id for r in rows if r.topic == "record.deleted"})
        in_scope_deleted: set[int] = set()
        if deleted_ids:
            t = snap.entity(entity).table
            clause = access.scope_clause(entity, t)
            q = sa.select(t.c.id).where(t.c.id.in_(deleted_ids))
            if clause is not None:
                q = q.where(clause)
            in_scope_deleted = set(conn.execute(q).scalars())
            if clause is None:
                in_scope_deleted |= set(deleted_ids)
    items = []
    for r in rows:
        action = r.topic.removeprefix("record.")
        if action == "deleted":
            if r.record_id in in_scope_deleted:
                items.append({"token": r.id, "action": action, "id": r.record_id})
        elif r.record_id in visible:
            items.append(
                {"token": r.id, "action": action, "id": r.record_id, "record": visible[r.record_id]}
            )
    next_token = rows[-1].id if rows else since
    return jsonify({"items": items, "next": str(next_token), "more": len(rows) == limit})


@api.get("/recycle-bin")
def recycle_bin():
    with _request_context() as (conn, actor, _access, _snap):
        if not actor.is_admin:
            raise RecordNotFound("the recycle bin is for administrators")
        return jsonify({"items": recyclebin.list_bin(conn, entity_arg())})


@api.post("/recycle-bin/<entity>/<int:record_id>/restore")
def restore(entity: str, record_id: int):
    _existing_id(entity, record_id)
    with _request_context(write=True) as (conn, actor, _access, _snap):
        record = _platform().records.restore(conn, actor, entity, record_id)
    return _record_response(record)


@api.delete("/recycle-bin/<entity>/<int:record_id>")
def purge(entity: str, record_id: int):
    _existing_id(entity, record_id)
    with _request_context(write=True) as (conn, actor, _access, _snap):
        n = _platform().records.purge(conn, actor, entity, record_id)
    return jsonify({"purged": n})


__all__ = ["json", "query_scopes"]
