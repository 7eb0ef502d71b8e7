"""Meta-schema problems of a workflow or rule set document, each with a JSON pointer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from xrm.metadata.validation import pointer

from .errors import Finding, error


def schema_findings(validator: Draft202012Validator, doc: Any) -> list[Finding]:
    """Every meta-schema violation, as plain messages at the place they concern."""
    out: list[Finding] = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        if err.validator in ("allOf", "$ref") and err.context:
            continue
        path = list(err.absolute_path)
        if "propertyNames" in err.schema_path:
            key = err.instance
            allowed = err.validator_value if err.validator == "enum" else None
            message = f"{key!r} is not allowed here"
            if allowed:
                message += f" (allowed: {', '.join(allowed)})"
            elif err.validator == "pattern":
                message = f"{key!r} is not a valid name (lower case letters, digits and _)"
            out.append(error(pointer(*path, key), message))
            continue
        if err.validator == "additionalProperties" and err.validator_value is False:
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            for key in extra:
                out.append(error(pointer(*path, key), f"{key!r} is not allowed here"))
            continue
        finding = error(pointer(*path), _message(err))
        if finding not in out:
            out.append(finding)
    return out


def _message(err: ValidationError) -> str:
    if err.validator in ("anyOf", "oneOf"):
        options = err.validator_value
        keys = [
            o["required"][0] for o in options if set(o) == {"required"} and len(o["required"]) == 1
        ]
        if keys and len(keys) == len(options):
            names = " or ".join(repr(k) for k in keys)
            if err.validator == "oneOf" and isinstance(err.instance, Mapping):
                given = [k for k in keys if k in err.instance]
                if len(given) > 1:
                    return f"give only one of {names}"
            return f"needs {names}"
        enums = [o["enum"] for o in options if "enum" in o]
        if enums and list(err.absolute_path)[-1:] == ["type"]:
            return (
                f"{err.instance!r} is not an action type (built-in: {', '.join(enums[0])}; "
                "a plugin's are namespaced, e.g. crm.send_quote)"
            )
        if err.context:
            best = min(err.context, key=lambda e: len(list(e.schema_path)))
            return best.message
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in (err.instance or {})]
        return f"{', '.join(repr(k) for k in missing)} is required"
    return err.message
