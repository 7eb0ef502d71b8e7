"""Validation of entity definition documents: every problem, each with a JSON pointer.

Two passes: the meta-schema (structure, types of options) and the semantic checks JSON Schema
cannot express (names that must exist, targets, column collisions, defaults that fit their field).
Both return lists; nothing raises on the first problem.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import DefinitionInvalid, DefinitionProblem
from .fieldtypes import FIELD_TYPES, FieldValueError
from .metaschema import structure_validator, type_option_validators
from .model import CONSTRAINT_KEYWORDS, EntityDefinition, infer_field_type, parse_definition
from .names import RESERVED_FIELD_NAMES, RESERVED_NAMESPACES, SYSTEM_COLUMNS, namespace


def pointer(*parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _with_inferred_types(doc: Any) -> Any:
    """A copy where every property names its (inferred) type, so the meta-schema checks the
    type's parameters for plain JSON Schema properties too."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("properties"), Mapping):
        return doc
    props = {}
    for name, prop in doc["properties"].items():
        if isinstance(prop, Mapping) and isinstance(prop.get("x-xrm", {}), Mapping):
            inferred = infer_field_type(prop)
            if inferred and "type" not in prop.get("x-xrm", {}):
                prop = {**prop, "x-xrm": {**prop.get("x-xrm", {}), "type": inferred}}
        props[name] = prop
    return {**doc, "properties": props}


def metaschema_problems(doc: Any) -> list[DefinitionProblem]:
    """Problems the meta-schema finds. The shipped meta-schema checks each field type's options
    with an if/then per type; here the same rules run dispatched by type (one small validator
    per field instead of every if/then for every field), which gives the same problems faster."""
    annotated = _with_inferred_types(doc)
    errors = [(err, ()) for err in structure_validator().iter_errors(annotated)]
    if isinstance(annotated, Mapping) and isinstance(annotated.get("properties"), Mapping):
        for fname, prop in annotated["properties"].items():
            fx = prop.get("x-xrm") if isinstance(prop, Mapping) else None
            ftype = fx.get("type") if isinstance(fx, Mapping) else None
            if isinstance(ftype, str) and ftype in type_option_validators():
                base = ("properties", fname, "x-xrm")
                errors += [(err, base) for err in type_option_validators()[ftype].iter_errors(fx)]
    problems = []
    for err, base in sorted(errors, key=lambda e: list(map(str, (*e[1], *e[0].absolute_path)))):
        path = (*base, *err.absolute_path)
        if err.validator in ("allOf", "$ref") and err.context:
            continue
        if "propertyNames" in err.schema_path:
            # Point at the offending key itself, and say what is allowed there.
            key = err.instance
            allowed = ", ".join(err.validator_value) if err.validator == "enum" else ""
            owner = _resolve(doc, path)
            ftype = owner.get("type") if isinstance(owner, Mapping) else None
            if ftype is None and len(path) >= 2 and path[0] == "properties":
                prop = _resolve(doc, list(path)[:2])
                ftype = infer_field_type(prop) if isinstance(prop, Mapping) else None
            what = f"an option of {ftype} fields" if isinstance(ftype, str) else "allowed here"
            message = f"{key!r} is not {what} (allowed: {allowed})" if allowed else err.message
            problems.append(DefinitionProblem(pointer(*path, key), message))
            continue
        problems.append(DefinitionProblem(pointer(*path), _plain(err)))
    return problems


def _resolve(doc: Any, path) -> Any:
    for part in path:
        try:
            doc = doc[part]
        except (KeyError, IndexError, TypeError):
            return None
    return doc


def _plain(err) -> str:
    if err.validator == "anyOf" and err.context:
        return err.context[0].message
    return err.message


def semantic_problems(
    doc: Mapping[str, Any], known: Mapping[str, EntityDefinition | None]
) -> list[DefinitionProblem]:
    """Checks beyond the meta-schema. ``known`` maps every entity name that exists (or is being
    defined in the same batch) to its definition, so references can be checked."""
    out: list[DefinitionProblem] = []
    add = lambda ptr, msg: out.append(DefinitionProblem(ptr, msg))  # noqa: E731
    xrm = doc.get("x-xrm") if isinstance(doc.get("x-xrm"), Mapping) else {}
    props = doc.get("properties") if isinstance(doc.get("properties"), Mapping) else {}
    name = xrm.get("name")
    if isinstance(name, str) and "." in name and namespace(name) in RESERVED_NAMESPACES:
        add("/x-xrm/name", f"the namespace {namespace(name)!r} is reserved by the platform")

    for i, req in enumerate(doc.get("required", ()) or ()):
        if req not in props:
            add(pointer("required", i), f"required field {req!r} is not defined in properties")

    required = {r for r in doc.get("required", ()) or () if isinstance(r, str)}
    columns: dict[str, str] = {c: "system column" for c in SYSTEM_COLUMNS}
    field_types: dict[str, str] = {}
    for fname, prop in props.items():
        if not isinstance(prop, Mapping):
            continue
        base = ("properties", fname)
        if fname in RESERVED_FIELD_NAMES:
            add(pointer(*base), f"{fname!r} is a reserved name (system column or query word)")
            continue
        fx = prop.get("x-xrm") if isinstance(prop.get("x-xrm"), Mapping) else {}
        ftype_name = fx.get("type") or infer_field_type(prop)
        if ftype_name is None:
            add(pointer(*base), "cannot tell the field type from the schema; set x-xrm.type")
            continue
        ftype = FIELD_TYPES.get(ftype_name)
        if ftype is None:
            continue  # the meta-schema already reported it
        field_types[fname] = ftype_name
        json_type = prop.get("type")
        if json_type is not None and fx.get("type"):
            declared = {json_type} if isinstance(json_type, str) else set(json_type or ())
            expected = ftype.value_schema(_probe_spec(fname, ftype_name, prop)).get("type")
            expected = {expected} if isinstance(expected, str) else set(expected or ())
            if declared - {"null"} - expected:
                add(
                    pointer(*base, "type"),
                    f"JSON type {json_type!r} does not fit a {ftype_name} field "
                    f"(its values are {' or '.join(sorted(expected))})",
                )
        for kw in CONSTRAINT_KEYWORDS:
            if (
                kw in prop
                and kw not in ftype.keywords
                and not (kw == "format" and ftype_name in ("date", "datetime", "uuid"))
            ):
                add(pointer(*base, kw), f"{kw} does not apply to {ftype_name} fields")
        for col, _t, _kw in ftype.columns(_probe_spec(fname, ftype_name, prop)):
            if col in columns and columns[col] != fname:
                add(
                    pointer(*base),
                    f"column {col!r} of field {fname!r} collides with {columns[col]}",
                )
            columns[col] = fname
        _check_type_options(out, base, fname, ftype_name, prop, fx, known, name, fname in required)
        if (
            (fx.get("unique") or fx.get("index"))
            and not ftype.sortable
            and ftype_name != "regarding"
        ):
            add(pointer(*base, "x-xrm"), f"{ftype_name} fields cannot be unique or indexed")

    for key in ("titleField",):
        if key in xrm and xrm[key] not in props:
            add(pointer("x-xrm", key), f"{key} {xrm[key]!r} is not a field of this entity")
    for key in ("searchFields", "listColumns"):
        for i, f in enumerate(xrm.get(key, ()) or ()):
            if f not in props:
                add(pointer("x-xrm", key, i), f"{f!r} is not a field of this entity")
    for i, group in enumerate(xrm.get("unique", ()) or ()):
        _check_index_fields(out, ("x-xrm", "unique", i), group, field_types)
    for i, ix in enumerate(xrm.get("indexes", ()) or ()):
        if isinstance(ix, Mapping):
            _check_index_fields(
                out, ("x-xrm", "indexes", i, "fields"), ix.get("fields", ()), field_types
            )
    return out


def _probe_spec(fname, ftype_name, prop):
    from .model import parse_field

    try:
        return parse_field(fname, prop, False)
    except Exception:  # malformed; reported by the meta-schema
        from .model import FieldSpec

        return FieldSpec(name=fname, type=ftype_name, label=fname)


def _check_index_fields(out, base, fields, field_types) -> None:
    for j, f in enumerate(fields or ()):
        if f not in field_types:
            out.append(DefinitionProblem(pointer(*base, j), f"{f!r} is not a field of this entity"))
        elif not FIELD_TYPES[field_types[f]].sortable:
            out.append(
                DefinitionProblem(
                    pointer(*base, j), f"{field_types[f]} field {f!r} cannot be indexed"
                )
            )


def _check_type_options(out, base, fname, ftype_name, prop, fx, known, self_name, required) -> None:
    add = lambda ptr, msg: out.append(DefinitionProblem(ptr, msg))  # noqa: E731
    if ftype_name in ("reference", "manytomany"):
        target = fx.get("target")
        if not target:
            add(pointer(*base, "x-xrm"), f"{ftype_name} field {fname!r} needs x-xrm.target")
        elif target != self_name and target not in known:
            add(pointer(*base, "x-xrm", "target"), f"target entity {target!r} does not exist")
    if ftype_name == "reference" and fx.get("onDelete") == "setNull" and required:
        add(pointer(*base, "x-xrm", "onDelete"), "setNull cannot be used on a required field")
    if ftype_name == "regarding":
        for i, t in enumerate(fx.get("targets", ()) or ()):
            if t != self_name and t not in known:
                add(pointer(*base, "x-xrm", "targets", i), f"target entity {t!r} does not exist")
    if ftype_name in ("choice", "multichoice"):
        enum = prop.get("enum") or (prop.get("items") or {}).get("enum")
        if not enum and not fx.get("options") and not fx.get("optionSet"):
            add(pointer(*base), f"{ftype_name} field {fname!r} needs enum values or x-xrm.options")
        for i, v in enumerate(enum or ()):
            if not isinstance(v, str) or not v or len(v) > 100:
                add(
                    pointer(*base, "enum", i),
                    "choice values are non-empty strings of at most 100 characters",
                )
    if fx.get("maintainedBy"):
        # Only the platform writes a system-maintained field: it cannot also be closed to the
        # platform (readOnly, a generated type), nor demanded of a user creating a record.
        if prop.get("readOnly") or FIELD_TYPES[ftype_name].generated:
            add(
                pointer(*base, "x-xrm", "maintainedBy"),
                f"field {fname!r} is {'readOnly' if prop.get('readOnly') else ftype_name}: "
                "nothing could write it; drop maintainedBy or readOnly",
            )
        if required and "default" not in prop:
            add(
                pointer(*base, "x-xrm", "maintainedBy"),
                f"system-maintained field {fname!r} is required without a default: users "
                "could not create records; give it a default or make it optional",
            )
    if ftype_name == "autonumber" and not fx.get("format"):
        add(
            pointer(*base, "x-xrm"),
            f"autonumber field {fname!r} needs x-xrm.format, e.g. CASE-{{SEQ:5}}",
        )


def default_problems(defn: EntityDefinition) -> list[DefinitionProblem]:
    """A default must be a valid value of its field."""
    out = []
    for f in defn.fields:
        if not f.has_default or f.default is None:
            continue
        ftype = FIELD_TYPES[f.type]
        if ftype.association or ftype.generated:
            out.append(
                DefinitionProblem(
                    pointer("properties", f.name, "default"),
                    f"{f.type} fields cannot have a default",
                )
            )
            continue
        try:
            ftype.coerce(f, f.default, False)
        except FieldValueError as exc:
            out.append(
                DefinitionProblem(pointer("properties", f.name, "default"), f"default {exc}")
            )
    return out


def non_finite_problems(doc: Any, path: tuple = ()) -> list[DefinitionProblem]:
    """Infinity and NaN are not JSON; a definition holding one could not be published."""
    if isinstance(doc, float) and not math.isfinite(doc):
        return [DefinitionProblem(pointer(*path), f"{doc} is not a finite number")]
    if isinstance(doc, Mapping):
        return [p for k, v in doc.items() for p in non_finite_problems(v, (*path, k))]
    if isinstance(doc, list | tuple):
        return [p for i, v in enumerate(doc) for p in non_finite_problems(v, (*path, i))]
    return []


def check_definition(
    doc: Any, known: Mapping[str, EntityDefinition | None], layer: str | None = None
) -> EntityDefinition:
    """Validate a document completely and return its model, or raise with every problem."""
    subject = _subject(doc)
    problems = non_finite_problems(doc) + metaschema_problems(doc)
    if isinstance(doc, Mapping):
        try:
            problems += [p for p in semantic_problems(doc, known) if p not in problems]
        except Exception:  # structure so broken that only the meta-schema problems make sense
            if not problems:
                raise
    defn = None
    try:
        defn = parse_definition(normalize_document(doc), layer=layer)
        problems += default_problems(defn)
    except Exception:  # unparseable: the problems above say why
        if not problems:
            raise
    if problems or defn is None:
        raise DefinitionInvalid(subject, problems)
    return defn


def normalize_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Fill in what the standard keywords imply so the stored document is self-contained:
    ``enum`` from ``x-xrm.options`` and the draft 2020-12 dialect."""
    out = dict(doc)
    out.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    out.setdefault("type", "object")
    props = {}
    for fname, prop in (doc.get("properties") or {}).items():
        prop = dict(prop)
        fx = prop.get("x-xrm") or {}
        options = fx.get("options")
        ftype = fx.get("type") or infer_field_type(prop)
        if options and ftype == "choice" and "enum" not in prop:
            prop["enum"] = [o["value"] for o in options]
        if options and ftype == "multichoice" and "enum" not in (prop.get("items") or {}):
            prop["items"] = {"type": "string", "enum": [o["value"] for o in options]}
        props[fname] = prop
    out["properties"] = props
    return out


def _subject(doc: Any) -> str:
    try:
        return f"entity definition {doc['x-xrm']['name']!r}"
    except (KeyError, TypeError):
        return "entity definition"


def _entity_name(doc: Any) -> str | None:
    try:
        name = doc["x-xrm"]["name"]
    except (KeyError, TypeError):
        return None
    return name if isinstance(name, str) else None


def check_all(
    docs: Iterable[Any], existing: Mapping[str, EntityDefinition]
) -> list[EntityDefinition]:
    """Validate a batch that may reference itself; raise once with the problems of every document."""
    docs = list(docs)
    known: dict[str, EntityDefinition | None] = dict(existing)
    for d in docs:
        with contextlib.suppress(KeyError, TypeError):
            known.setdefault(d["x-xrm"]["name"], None)
    out, problems, subjects = [], [], []
    for i, d in enumerate(docs):
        try:
            out.append(check_definition(d, known))
        except DefinitionInvalid as exc:
            subjects.append(exc.subject)
            # In a batch, the pointer is prefixed with the entity the document defines.
            name = _entity_name(d) or f"document {i + 1}"
            problems += [
                DefinitionProblem(f"{name}#{p.pointer}" if len(docs) > 1 else p.pointer, p.message)
                for p in exc.problems
            ]
    if problems:
        raise DefinitionInvalid(", ".join(subjects), problems)
    return out
