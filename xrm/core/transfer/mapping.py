"""Which column of a file goes into which field: checked once, before any row is read.

A column is matched to a field by the caller's explicit mapping, else by the field's name or
label (ignoring case); the labels of system columns are those the export writes ("Id",
"Created at", ...). Every reason to refuse the mapping is collected and raised together, each
problem naming the column and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ...metadata.compiler import CompiledEntity
from ..query.fields import SYSTEM_FIELDS
from .errors import ImportMappingError


@dataclass(frozen=True)
class ColumnMap:
    """The resolved mapping of one file onto one entity."""

    headers: tuple[str, ...]
    #: (column index, field) of every field whose values are imported
    fields: tuple[tuple[int, str], ...]
    #: the upsert key: field names, or ("id",)
    key: tuple[str, ...] = ()
    #: column index of each key field (key fields are usually imported too)
    key_columns: Mapping[str, int] = field(default_factory=dict)
    #: header -> field, for the report
    columns: Mapping[str, str] = field(default_factory=dict)
    ignored: tuple[dict[str, str], ...] = ()

    def column_of(self, field_name: str | None) -> str | None:
        for i, f in self.fields:
            if f == field_name:
                return self.headers[i]
        index = self.key_columns.get(field_name or "")
        return None if index is None else self.headers[index]


def resolve_columns(
    ce: CompiledEntity,
    headers: Sequence[str],
    mapping: Mapping[str, str | None],
    key: Sequence[str],
    hidden: frozenset[str] = frozenset(),
) -> ColumnMap:
    """Map ``headers`` onto ``ce``; raise :class:`ImportMappingError` with every problem."""
    problems: list[dict[str, str]] = []

    def problem(column: str | None, fname: str | None, message: str) -> None:
        entry = {"message": message}
        if column is not None:
            entry["column"] = column
        if fname is not None:
            entry.update(field=fname, pointer=f"/{fname}")
        problems.append(entry)

    for column in mapping:
        if column not in headers:
            problem(
                column,
                mapping[column],
                f"the mapping names column {column!r}, which the file does not have",
            )
    seen_headers: dict[str, int] = {}
    for i, h in enumerate(headers):
        if h and h in seen_headers and h in mapping:
            problem(h, None, f"the file has two columns named {h!r}; rename one to map them")
        seen_headers.setdefault(h, i)

    by_name = {n.lower(): n for n in (*ce.fields, *SYSTEM_FIELDS)}
    by_label: dict[str, list[str]] = {}
    for n, cf in ce.fields.items():
        by_label.setdefault(cf.spec.label.lower(), []).append(n)
    for n, spec in SYSTEM_FIELDS.items():
        by_label.setdefault(spec.label.lower(), []).append(n)

    targets: dict[int, tuple[str, bool]] = {}  # column index -> (field, explicitly mapped)
    ignored: list[dict[str, str]] = []
    for i, h in enumerate(headers):
        if h in mapping:
            target = mapping[h]
            if target is None:
                ignored.append({"column": h, "reason": "ignored by the mapping"})
            elif target not in ce.fields and target not in SYSTEM_FIELDS:
                problem(
                    h,
                    target,
                    f"column {h!r} is mapped to {target!r}, which {ce.name} does not have",
                )
            else:
                targets[i] = (target, True)
            continue
        if not h:
            ignored.append({"column": f"#{i + 1}", "reason": "the column has no header"})
            continue
        low = h.lower()
        if low in by_name:
            targets[i] = (by_name[low], False)
        elif len(by_label.get(low, ())) == 1:
            targets[i] = (by_label[low][0], False)
        elif low in by_label:
            names = " and ".join(by_label[low])
            problem(h, None, f"column {h!r} matches the labels of {names}; map it explicitly")
        else:
            ignored.append({"column": h, "reason": f"{ce.name} has no field named or labelled so"})

    key = tuple(key)
    key_columns: dict[str, int] = {}
    for i, (fname, _explicit) in targets.items():
        if fname in key:
            key_columns[fname] = i
    _check_key(ce, key, key_columns, hidden, problem)

    fields: list[tuple[int, str]] = []
    by_field: dict[str, int] = {}
    for i, (fname, explicit) in sorted(targets.items()):
        h = headers[i]
        if fname in by_field:
            problem(
                h, fname, f"columns {headers[by_field[fname]]!r} and {h!r} both go into {fname}"
            )
            continue
        by_field[fname] = i
        reason = _not_importable(ce, fname)
        if fname in hidden:
            problem(h, fname, f"you may not write field {fname!r} of {ce.name}")
        elif reason is None:
            fields.append((i, fname))
        elif fname in key:
            pass  # used to find the record, never written
        elif explicit:
            problem(h, fname, f"column {h!r} cannot be imported: {fname} {reason}")
        else:
            ignored.append({"column": h, "reason": f"{fname} {reason}"})

    if problems:
        raise ImportMappingError(
            f"the columns of the file cannot be imported into {ce.name}: "
            + "; ".join(p["message"] for p in problems),
            problems,
        )
    columns = {headers[i]: f for i, f in fields}
    columns.update({headers[i]: f for f, i in key_columns.items()})
    return ColumnMap(tuple(headers), tuple(fields), key, key_columns, columns, tuple(ignored))


def _not_importable(ce: CompiledEntity, fname: str) -> str | None:
    """Why a field's values cannot be written by an import (None: they can)."""
    if fname == "id":
        return "is the record id: it can only serve as the key to update records by"
    if fname in SYSTEM_FIELDS:
        return "is a system column the platform sets"
    cf = ce.fields[fname]
    if cf.type.generated or cf.spec.readonly:
        return "is read-only"
    return None


def unique_keys(ce: CompiledEntity) -> set[frozenset[str]]:
    """The field sets of the entity's unique indexes (declared, and implied such as
    autonumbers)."""
    out = set()
    for ix in ce.table.indexes:
        if ix.unique:
            cols = {c.name for c in ix.columns}
            out.add(frozenset(f.name for f in ce.fields.values() if set(f.columns) & cols))
    return out


def _check_key(ce, key, key_columns, hidden, problem) -> None:
    if not key:
        return
    if key != ("id",) and ("id" in key or frozenset(key) not in unique_keys(ce)):
        problem(
            None,
            key[0],
            f"{', '.join(key)} is not a unique key of {ce.name}; declare it unique "
            "(or use id) to update records by it",
        )
        return
    for k in key:
        if k in hidden:
            problem(None, k, f"you may not read field {k!r} of {ce.name}, so it cannot be the key")
        elif k not in key_columns:
            problem(None, k, f"the key field {k!r} has no column in the file")
