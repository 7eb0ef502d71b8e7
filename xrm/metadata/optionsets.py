"""Reusable option sets: one list of choices shared by many choice and multi-choice fields.

An option set document::

    {"name": "crm.industry", "label": "Industry",
     "options": [{"value": "retail", "label": "Retail", "color": "#3b82f6"}, ...]}

A field uses it with ``"x-xrm": {"type": "choice", "optionSet": "crm.industry"}``. Resolution
copies the set's values into the field's standard ``enum`` (and its labels into
``x-xrm.options``), so the stored definition stays a self-contained JSON Schema and the planner
sees a changed set as a changed enum on every field that uses it (added values: safe; removed
values: checked against the data).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from .errors import DefinitionInvalid, DefinitionProblem
from .fieldtypes.scalars import OPTION_SCHEMA
from .model import JSON_SCHEMA_DIALECT
from .names import ENTITY_NAME_PATTERN

OPTION_SET_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    "$id": "urn:xrm:schema:optionset",
    "title": "xRM option set",
    "type": "object",
    "required": ["name", "options"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": ENTITY_NAME_PATTERN},
        "label": {"type": "string", "maxLength": 100},
        "description": {"type": "string"},
        "options": {**OPTION_SCHEMA, "minItems": 1},
    },
}


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(OPTION_SET_SCHEMA)


def is_option_set(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "options" in doc and "x-xrm" not in doc


def check_option_set(doc: Any) -> dict[str, Any]:
    """Validate an option set document; every problem, with JSON pointers."""
    problems = [
        DefinitionProblem("".join(f"/{p}" for p in e.absolute_path), e.message)
        for e in _validator().iter_errors(doc)
    ]
    if not problems:
        values = [o["value"] for o in doc["options"]]
        for i, v in enumerate(values):
            if v in values[:i]:
                problems.append(
                    DefinitionProblem(f"/options/{i}/value", f"value {v!r} is listed twice")
                )
    if problems:
        name = doc.get("name") if isinstance(doc, Mapping) else None
        raise DefinitionInvalid(f"option set {name!r}" if name else "option set", problems)
    return copy.deepcopy(dict(doc))


def used_sets(doc: Mapping[str, Any]) -> set[str]:
    """Names of the option sets an entity document refers to."""
    out = set()
    for prop in (doc.get("properties") or {}).values():
        if isinstance(prop, Mapping):
            name = (prop.get("x-xrm") or {}).get("optionSet")
            if isinstance(name, str):
                out.add(name)
    return out


def resolve(
    doc: Mapping[str, Any], sets: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], list[DefinitionProblem]]:
    """Copy each referenced set's values into the field's ``enum``. Unknown sets are problems."""
    out = copy.deepcopy(dict(doc))
    problems = []
    for fname, prop in (out.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        fx = prop.get("x-xrm") or {}
        name = fx.get("optionSet")
        if not isinstance(name, str):
            continue
        oset = sets.get(name)
        if oset is None:
            problems.append(
                DefinitionProblem(
                    f"/properties/{fname}/x-xrm/optionSet", f"option set {name!r} does not exist"
                )
            )
            continue
        values = [o["value"] for o in oset["options"]]
        fx = dict(fx)
        fx["options"] = copy.deepcopy(list(oset["options"]))
        prop["x-xrm"] = fx
        if fx.get("type") == "multichoice" or prop.get("type") == "array":
            prop["items"] = {**(prop.get("items") or {}), "type": "string", "enum": values}
        else:
            prop["enum"] = values
    return out, problems


def names_of(docs: Iterable[Mapping[str, Any]]) -> list[str]:
    return [d["name"] for d in docs]
