"""Metadata endpoints: entity definitions and the meta-schema."""

from __future__ import annotations

from flask import current_app, jsonify

from ...metadata.layers import BASE
from ...metadata.metaschema import entity_metaschema
from ...metadata.model import thaw
from ..auth import current_actor
from . import api


def _platform():
    return current_app.extensions["xrm"]


def _versioned(response, version: int):
    response.headers["X-Xrm-Metadata-Version"] = str(version)
    return response


@api.get("/meta/schemas/entity")
def entity_meta_schema():
    """The meta-schema every entity definition must satisfy (public)."""
    return jsonify(entity_metaschema())


@api.get("/meta/entities")
def list_entities():
    current_actor()
    p = _platform()
    with p.engine.connect() as conn:
        snap = p.registry.snapshot(conn)
    items = [
        {
            "name": e.name,
            "label": e.definition.label,
            "labelPlural": e.definition.label_plural,
            "source": e.definition.layer,
            "fields": len(e.definition.fields),
        }
        for e in snap.entities.values()
    ]
    return _versioned(jsonify({"version": snap.version, "items": items}), snap.version)


@api.get("/meta/entities/<name>")
def get_entity(name: str):
    current_actor()
    p = _platform()
    with p.engine.connect() as conn:
        snap = p.registry.snapshot(conn)
        ce = snap.entity(name)
        layers = p.registry.layers(conn, [name]).get(name, {})
    body = {
        "name": name,
        "version": snap.version,
        "source": ce.definition.layer,
        "definition": thaw(ce.definition.document),
        "layers": sorted(layers, key=lambda layer: (layer != BASE, layer)),
        "recordSchema": ce.record_schema,
        "form": ce.form_spec,
    }
    return _versioned(jsonify(body), snap.version)
