"""The UI model of one entity for one user: the compiled form spec narrowed to what the user may
see and write, plus what the generic pages need (sections, operators, sortable fields, related
lists, the workflow's state field, the user's rights). Pure: built from the snapshot and the
user's access, served as JSON at ``/ui/<entity>/form-spec``."""

from __future__ import annotations

from typing import Any

from ...core.security.access import Access
from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ...metadata.model import thaw

SYSTEM_LIST_FIELDS = [
    {"name": "id", "label": "Id", "type": "bigint"},
    {"name": "created_at", "label": "Created at", "type": "datetime"},
    {"name": "updated_at", "label": "Updated at", "type": "datetime"},
]
RELATION_TYPES = ("reference", "regarding", "manytomany")
LONG_TYPES = ("longtext", "json")
ACTIONS = ("read", "create", "update", "delete", "import", "export")


def sections(fields: list[dict]) -> list[dict]:
    """Fields grouped for the record page and the form: the scalar details, the relations,
    the long texts (definitions carry no layout of their own, so the grouping follows the
    field types, in definition order)."""
    groups = [
        (
            "details",
            "Details",
            [f["name"] for f in fields if f["type"] not in (*RELATION_TYPES, *LONG_TYPES)],
        ),
        ("relations", "Relations", [f["name"] for f in fields if f["type"] in RELATION_TYPES]),
        ("notes", "Notes", [f["name"] for f in fields if f["type"] in LONG_TYPES]),
    ]
    return [{"name": n, "label": label, "fields": names} for n, label, names in groups if names]


def related_lists(snapshot: MetadataSnapshot, access: Access, entity: str) -> list[dict]:
    """1:N lists (another entity's reference to this one) and N:N lists (many-to-many fields
    on either side) the user may read."""
    out = []
    for name, ce in snapshot.entities.items():
        if not access.can(name, "read"):
            continue
        hidden = access.hidden(name)
        for f in ce.definition.fields:
            if f.name in hidden or f.opt("target") != entity:
                continue
            if f.type in ("reference", "manytomany"):
                out.append(
                    {
                        "entity": name,
                        "field": f.name,
                        "kind": "1:N" if f.type == "reference" else "N:N",
                        "titleField": ce.definition.title_field
                        if ce.definition.title_field not in hidden
                        else None,
                        "label": ce.definition.label_plural
                        + ("" if f.label.lower() == entity.split(".")[-1] else f" ({f.label})"),
                    }
                )
    return out


def activity_sources(snapshot: MetadataSnapshot, access: Access) -> list[dict]:
    """Entities whose records may be about any record (a ``regarding`` field): their records
    regarding a record appear in its timeline."""
    out = []
    for name, ce in snapshot.entities.items():
        if not access.can(name, "read"):
            continue
        for f in ce.definition.fields:
            if f.type == "regarding" and f.name not in access.hidden(name):
                out.append(
                    {
                        "entity": name,
                        "field": f.name,
                        "label": ce.definition.label,
                        "titleField": ce.definition.title_field
                        if ce.definition.title_field not in access.hidden(name)
                        else None,
                    }
                )
    return out


def entity_model(
    snapshot: MetadataSnapshot,
    access: Access,
    ce: CompiledEntity,
    workflows: list[dict] | dict | None = None,
) -> dict[str, Any]:
    """``workflows``: every workflow of the entity (one per state field), first by name; the
    first is also the model's ``workflow`` (pages written for one workflow keep working)."""
    if isinstance(workflows, dict):
        workflows = [workflows]
    workflows = list(workflows or ())
    spec = ce.form_spec
    hidden = access.hidden(ce.name)
    readonly = access.readonly(ce.name)
    fields = []
    for f in spec["fields"]:
        if f["name"] in hidden:
            continue
        item = dict(f)
        cf = ce.fields[f["name"]]
        item["readOnly"] = bool(f["readOnly"] or f["name"] in readonly)
        item["operators"] = list(ce.operators.get(f["name"], ()))
        item["sortable"] = f["name"] in ce.sortable
        if f["type"] == "money":
            item["currencies"] = list(cf.spec.opt("currencies") or ())
            item["defaultCurrency"] = cf.spec.opt("defaultCurrency")
        if f["type"] == "text" and cf.spec.kw("maxLength"):
            item["maxLength"] = cf.spec.kw("maxLength")
        for key in ("minimum", "maximum"):
            if cf.spec.kw(key) is not None:
                item[key] = thaw(cf.spec.kw(key))
        if f["type"] in ("reference", "manytomany"):
            target = snapshot.entities.get(f["target"])
            item["targetReadable"] = target is not None and access.can(f["target"], "read")
            title = target.definition.title_field if target is not None else None
            item["targetTitle"] = (
                title
                if item["targetReadable"] and title not in access.hidden(f["target"])
                else None
            )
        fields.append(item)
    for workflow in workflows:
        # A state field reads as its workflow's states (labels and colours) everywhere.
        states = {st["name"]: st for st in workflow["states"]}
        for item in fields:
            if item["name"] == workflow["stateField"] and item.get("options"):
                item["options"] = [
                    {
                        **o,
                        "label": states.get(o["value"], {}).get("label") or o["label"],
                        "color": states.get(o["value"], {}).get("color") or o.get("color"),
                    }
                    for o in item["options"]
                ]
    names = [f["name"] for f in fields]
    columns = [c for c in spec["listColumns"] if c in names] or names[:5]
    search = [s for s in spec["searchFields"] if s in names]
    title = spec["titleField"] if spec["titleField"] in names else None
    return {
        **spec,
        "fields": fields,
        "systemFields": [
            {**s, "operators": list(ce.operators[s["name"]]), "sortable": True}
            for s in SYSTEM_LIST_FIELDS
        ],
        "listColumns": columns,
        "searchFields": search,
        "titleField": title,
        "sections": sections(fields),
        "related": related_lists(snapshot, access, ce.name),
        "activities": activity_sources(snapshot, access),
        "rights": {a: access.can(ce.name, a) for a in ACTIONS},
        "workflow": workflows[0] if workflows else None,
        "workflows": workflows,
        "boardFields": [f["name"] for f in fields if f["type"] == "choice"],
    }
