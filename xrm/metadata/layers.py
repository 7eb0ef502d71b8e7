"""Layered definitions: base + plugin extensions + administrator customisation.

* ``base``: the full document, from the plugin that owns the entity or from an administrator;
* ``ext:<plugin>``: fields another plugin adds (``properties``, ``required`` added to, and
  ``x-xrm`` list options appended);
* ``custom``: the administrator's changes to a plugin entity, as an RFC 7396 JSON merge patch.

The effective definition is computed, never edited, so upgrading a plugin replaces only its
base layer and the customisation is applied again on top.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

BASE = "base"
CUSTOM = "custom"
EXTENSION_PREFIX = "ext:"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def make_merge_patch(source: Any, target: Any) -> Any:
    """The merge patch turning ``source`` into ``target`` (inverse of :func:`merge_patch`)."""
    if not isinstance(source, Mapping) or not isinstance(target, Mapping):
        return copy.deepcopy(target)
    patch: dict[str, Any] = {}
    for key in source:
        if key not in target:
            patch[key] = None
    for key, value in target.items():
        if key not in source:
            patch[key] = copy.deepcopy(value)
        elif source[key] != value:
            patch[key] = make_merge_patch(source[key], value)
    return patch


def apply_extension(doc: Mapping[str, Any], ext: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(doc))
    props = out.setdefault("properties", {})
    for name, prop in (ext.get("properties") or {}).items():
        props[name] = merge_patch(props.get(name), prop)
    required = list(out.get("required", ()))
    required += [r for r in ext.get("required", ()) if r not in required]
    if required:
        out["required"] = required
    xrm = out.setdefault("x-xrm", {})
    for key, value in (ext.get("x-xrm") or {}).items():
        if key == "name":
            continue
        if isinstance(value, list) and isinstance(xrm.get(key), list):
            xrm[key] = xrm[key] + [v for v in value if v not in xrm[key]]
        else:
            xrm[key] = merge_patch(xrm.get(key), value)
    return out


def layer_order(layer: str) -> tuple[int, str]:
    if layer == BASE:
        return (0, "")
    if layer == CUSTOM:
        return (2, "")
    return (1, layer)


def effective_document(layers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Merge the layers of one entity; None if it has no base layer."""
    if BASE not in layers:
        return None
    doc = copy.deepcopy(dict(layers[BASE]))
    for name in sorted(layers, key=layer_order):
        if name.startswith(EXTENSION_PREFIX):
            doc = apply_extension(doc, layers[name])
    if CUSTOM in layers:
        custom = dict(layers[CUSTOM])
        props = doc.get("properties", {})
        # A customisation of a field the base no longer has (removed by a plugin upgrade) is
        # dropped, unless it defines a whole field of its own (it then has a type).
        cprops = {
            k: v
            for k, v in (custom.get("properties") or {}).items()
            if k in props or v is None or _defines_field(v)
        }
        if "properties" in custom:
            custom["properties"] = cprops
        doc = merge_patch(doc, custom)
        if "required" in doc:
            doc["required"] = [r for r in doc["required"] if r in doc.get("properties", {})]
    return doc


def _defines_field(prop: Any) -> bool:
    return isinstance(prop, Mapping) and (
        "type" in prop or "enum" in prop or "type" in (prop.get("x-xrm") or {})
    )
