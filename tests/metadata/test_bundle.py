"""Definition bundles: export every layer as files, import them through plan and apply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from xrm.metadata.bundle import (
    MANIFEST,
    BundleInvalid,
    export_bundle,
    import_bundle,
    load_bundle,
    plan_bundle,
    read_bundle,
)
from xrm.metadata.errors import DefinitionInvalid, PlanRefused
from xrm.metadata.registry import LayerChange

INDUSTRY = {
    "name": "crm.industry",
    "label": "Industry",
    "options": [{"value": "retail", "label": "Retail"}, {"value": "banking", "label": "Banking"}],
}
ACCOUNT = {
    "x-xrm": {"name": "crm.account", "unique": [["name", "city"]]},
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 120},
        "city": {"type": "string", "x-xrm": {"index": True}},
        "industry": {"x-xrm": {"type": "choice", "optionSet": "crm.industry"}},
        "revenue": {"x-xrm": {"type": "money", "defaultCurrency": "EUR"}},
    },
}
CONTACT = {
    "x-xrm": {"name": "crm.contact"},
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "account": {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": "cascade"}},
    },
}
TAG = {"x-xrm": {"name": "crm.tag"}, "properties": {"label": {"type": "string"}}}
MARKETING = {"properties": {"newsletter": {"type": "boolean", "default": False}}}
NOTE = {
    "x-xrm": {"name": "my.note"},
    "properties": {
        "text": {"type": "string", "x-xrm": {"type": "longtext"}},
        "about": {"x-xrm": {"type": "regarding"}},
        "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
    },
}


def build_installation(registry) -> None:
    """A plugin entity set with an extension, an admin customisation and an admin entity."""
    registry.apply(registry.plan([INDUSTRY, ACCOUNT, CONTACT, TAG], source="plugin:crm"))
    registry.apply(
        registry.plan(
            changes=[LayerChange("crm.contact", "ext:marketing", "plugin:marketing", MARKETING)]
        )
    )
    contact = _effective(registry, "crm.contact")
    contact["properties"]["name"]["title"] = "Full name"
    contact["properties"]["vip"] = {"type": "boolean"}
    registry.apply(registry.plan([contact], source="admin"))
    registry.apply(registry.plan([NOTE]))


def _effective(registry, name: str) -> dict[str, Any]:
    from xrm.metadata.model import thaw

    return thaw(registry.snapshot().entity(name).definition.document)


def all_layers(registry) -> dict[str, dict[str, dict]]:
    with registry.engine.connect() as conn:
        return registry.layers(conn)


def layer_sources(registry) -> set[tuple[str, str, str]]:
    from xrm.metadata import store

    with registry.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                store.entity_layer.c.entity, store.entity_layer.c.layer, store.entity_layer.c.source
            )
        )
        return {tuple(r) for r in rows}


def entity_tables(schema, engine) -> dict[str, Any]:
    return {k: v for k, v in schema(engine).items() if not k.startswith("xrm_")}


@pytest.fixture
def exported(registry, tmp_path) -> Path:
    build_installation(registry)
    folder = tmp_path / "bundle"
    export_bundle(registry, folder)
    return folder


# -- export -----------------------------------------------------------------------------------


def test_export_writes_a_manifest_and_one_file_per_layer_and_option_set(registry, tmp_path):
    build_installation(registry)
    files = export_bundle(registry, tmp_path / "b")
    rel = [str(p.relative_to(tmp_path / "b")) for p in files]
    assert rel[0] == MANIFEST
    assert sorted(rel[1:]) == [
        "crm.account/base.json",
        "crm.contact/base.json",
        "crm.contact/custom.json",
        "crm.contact/ext_marketing.json",
        "crm.tag/base.json",
        "my.note/base.json",
        "option-sets/crm.industry.json",
    ]


def test_the_manifest_names_the_format_and_the_source_of_each_entity_and_layer(exported):
    manifest = json.loads((exported / MANIFEST).read_text())
    assert (manifest["format"], manifest["formatVersion"]) == ("xrm.bundle", 1)
    assert manifest["metadataVersion"] == 4
    assert {n: e["source"] for n, e in manifest["entities"].items()} == {
        "crm.account": "plugin:crm",
        "crm.contact": "plugin:crm",
        "crm.tag": "plugin:crm",
        "my.note": "admin",
    }
    assert manifest["entities"]["crm.contact"]["layers"] == [
        {"layer": "base", "source": "plugin:crm", "file": "crm.contact/base.json"},
        {
            "layer": "ext:marketing",
            "source": "plugin:marketing",
            "file": "crm.contact/ext_marketing.json",
        },
        {"layer": "custom", "source": "admin", "file": "crm.contact/custom.json"},
    ]
    assert manifest["optionSets"] == {"crm.industry": "option-sets/crm.industry.json"}


def test_each_layer_file_holds_the_layer_document_as_stored(registry, exported):
    layers = all_layers(registry)
    assert (
        json.loads((exported / "crm.contact/base.json").read_text())
        == layers["crm.contact"]["base"]
    )
    assert (
        json.loads((exported / "crm.contact/custom.json").read_text())
        == (layers["crm.contact"]["custom"])
    )
    assert json.loads((exported / "crm.contact/ext_marketing.json").read_text()) == MARKETING


def test_layer_files_keep_the_order_of_the_fields(exported):
    doc = json.loads((exported / "crm.account/base.json").read_text())
    assert list(doc["properties"]) == ["name", "city", "industry", "revenue"]


def test_exporting_an_unchanged_installation_again_gives_identical_files(registry, tmp_path):
    build_installation(registry)
    first = {
        p.relative_to(tmp_path / "a"): p.read_bytes()
        for p in export_bundle(registry, tmp_path / "a")
    }
    second = {
        p.relative_to(tmp_path / "b"): p.read_bytes()
        for p in export_bundle(registry, tmp_path / "b")
    }
    assert first == second


def test_exporting_into_an_earlier_bundle_removes_the_files_of_removed_entities(registry, tmp_path):
    build_installation(registry)
    folder = tmp_path / "b"
    export_bundle(registry, folder)
    (folder / "README.md").write_text("kept")
    registry.apply(registry.plan(removed=["my.note"]), confirm=True)
    export_bundle(registry, folder)
    assert not (folder / "my.note").exists()
    assert (folder / "README.md").read_text() == "kept"
    assert "my.note" not in json.loads((folder / MANIFEST).read_text())["entities"]


def test_exporting_an_empty_installation_writes_only_the_manifest(registry, tmp_path):
    files = export_bundle(registry, tmp_path / "empty")
    assert files == [tmp_path / "empty" / MANIFEST]
    assert json.loads(files[0].read_text())["entities"] == {}


# -- reading ----------------------------------------------------------------------------------


def test_read_bundle_gives_one_layer_change_per_file(exported):
    changes = read_bundle(exported)
    assert {(c.entity, c.layer, c.source) for c in changes} == {
        ("crm.account", "base", "plugin:crm"),
        ("crm.contact", "base", "plugin:crm"),
        ("crm.contact", "ext:marketing", "plugin:marketing"),
        ("crm.contact", "custom", "admin"),
        ("crm.tag", "base", "plugin:crm"),
        ("my.note", "base", "admin"),
    }


def test_load_bundle_also_reads_the_option_sets(exported):
    assert load_bundle(exported).option_sets == [INDUSTRY]


# -- import -----------------------------------------------------------------------------------


def test_importing_into_an_empty_database_reproduces_the_schema(
    registry, other_registry, exported, schema
):
    import_bundle(other_registry, exported)
    assert entity_tables(schema, other_registry.engine) == entity_tables(schema, registry.engine)


def test_importing_into_an_empty_database_reproduces_layers_sources_and_option_sets(
    registry, other_registry, exported
):
    import_bundle(other_registry, exported)
    assert all_layers(other_registry) == all_layers(registry)
    assert layer_sources(other_registry) == layer_sources(registry)
    assert other_registry.option_sets() == registry.option_sets()
    assert other_registry.snapshot().definitions == registry.snapshot().definitions


def test_importing_into_an_empty_database_is_one_new_version(other_registry, exported):
    assert import_bundle(other_registry, exported) == 1
    assert [h["revision"] for h in other_registry.history("crm.contact")] == [1]


def test_an_imported_schema_enforces_its_foreign_keys(other_registry, exported, records_of):
    import_bundle(other_registry, exported)
    records = records_of(other_registry)
    a = records.insert("crm.account", name="Acme", industry="retail")
    c = records.insert("crm.contact", name="Ada", account=a)
    with other_registry.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM crm_account WHERE id = :id"), {"id": a})
    assert records.get("crm.contact", c) is None


def test_importing_the_same_bundle_again_changes_nothing(other_registry, exported, state):
    import_bundle(other_registry, exported)
    before = state(other_registry)
    plan = plan_bundle(other_registry, exported)
    assert plan.is_empty
    assert plan.layer_changes == []
    assert plan.option_sets == []
    assert import_bundle(other_registry, exported) == 1
    assert state(other_registry) == before


def test_importing_a_bundle_into_the_installation_it_came_from_changes_nothing(registry, exported):
    assert plan_bundle(registry, exported).is_empty
    assert import_bundle(registry, exported) == registry.version() == 4


def test_the_layers_of_read_bundle_can_be_planned_directly(other_registry, exported):
    bundle = load_bundle(exported)
    plan = other_registry.plan(changes=read_bundle(exported), option_sets=bundle.option_sets)
    assert other_registry.apply(plan) == 1


def test_importing_a_changed_bundle_applies_only_the_difference(registry, other_registry, exported):
    import_bundle(other_registry, exported)
    doc = json.loads((exported / "my.note/base.json").read_text())
    doc["properties"]["title"] = {"type": "string"}
    (exported / "my.note/base.json").write_text(json.dumps(doc))
    plan = plan_bundle(other_registry, exported)
    assert [(op.kind, op.entity) for op in plan.operations if op.kind != "update_entity"] == [
        ("add_field", "my.note")
    ]
    assert import_bundle(other_registry, exported) == 2
    assert len(other_registry.history("crm.account")) == 1


def test_a_layer_the_bundle_does_not_have_is_removed_on_import(registry, tmp_path):
    registry.apply(registry.plan([INDUSTRY, ACCOUNT, CONTACT, TAG], source="plugin:crm"))
    folder = tmp_path / "plain"
    export_bundle(registry, folder)
    build_installation(registry)
    with pytest.raises(PlanRefused):
        import_bundle(registry, folder)  # dropping the admin's field is destructive
    import_bundle(registry, folder, confirm=True)
    layers = all_layers(registry)
    assert set(layers["crm.contact"]) == {"base"}
    assert "my.note" in layers  # not in the bundle: left alone
    assert "vip" not in registry.snapshot().entity("crm.contact").fields


def test_an_import_whose_data_does_not_fit_is_refused_and_changes_nothing(
    registry, records, exported, state
):
    records.insert("crm.tag", label="not a number")
    doc = json.loads((exported / "crm.tag/base.json").read_text())
    doc["properties"]["label"] = {"type": "integer"}
    (exported / "crm.tag/base.json").write_text(json.dumps(doc))
    before = state(registry)
    with pytest.raises(PlanRefused) as info:
        import_bundle(registry, exported, confirm=True)
    assert info.value.report[0]["failing"] == 1
    assert state(registry) == before


def test_an_import_that_fails_half_way_changes_nothing(other_registry, exported, state):
    def fail(conn, change):
        raise RuntimeError("injected")

    other_registry.apply_hooks.append(fail)
    before = state(other_registry)
    with pytest.raises(RuntimeError):
        import_bundle(other_registry, exported)
    assert state(other_registry) == before


def test_an_invalid_definition_in_a_bundle_is_rejected_naming_the_bundle(
    other_registry, exported, state
):
    doc = json.loads((exported / "my.note/base.json").read_text())
    doc["properties"]["id"] = {"type": "string"}
    (exported / "my.note/base.json").write_text(json.dumps(doc))
    before = state(other_registry)
    with pytest.raises(DefinitionInvalid) as info:
        import_bundle(other_registry, exported)
    assert str(exported) in str(info.value)
    assert "my.note#/properties/id" in [p.pointer for p in info.value.problems]
    assert state(other_registry) == before


# -- bad bundles ------------------------------------------------------------------------------


def bundle_problems(folder) -> list[str]:
    with pytest.raises(BundleInvalid) as info:
        load_bundle(folder)
    assert info.value.status == 422
    return [str(p) for p in info.value.problems]


def write(folder: Path, rel: str, content: Any) -> None:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))


def manifest_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST).read_text())


def test_a_folder_that_does_not_exist_is_not_a_bundle(tmp_path):
    assert bundle_problems(tmp_path / "nowhere") == [".: is not a folder"]


def test_a_bundle_without_manifest_names_the_missing_manifest(tmp_path):
    assert bundle_problems(tmp_path) == ["bundle.json: is missing"]


def test_a_manifest_that_is_not_json_names_the_file_and_the_position(tmp_path):
    write(tmp_path, MANIFEST, '{"format": "xrm.bundle",\n  "entities": }')
    [problem] = bundle_problems(tmp_path)
    assert problem.startswith("bundle.json: is not valid JSON: Expecting value (line 2, column")


def test_a_manifest_of_the_wrong_shape_reports_every_problem_with_its_place(tmp_path):
    write(
        tmp_path,
        MANIFEST,
        {
            "format": "zip",
            "formatVersion": 1,
            "entities": {"Bad Name": {"layers": []}, "crm.a": {"layers": [{"layer": "top"}]}},
        },
    )
    problems = bundle_problems(tmp_path)
    assert all(p.startswith("bundle.json: at /") for p in problems)
    assert any("/format" in p for p in problems)
    assert any("/entities/crm.a/layers/0" in p for p in problems)
    assert any("Bad Name" in p for p in problems)


def test_a_newer_format_version_is_refused(exported):
    manifest = manifest_of(exported)
    manifest["formatVersion"] = 2
    write(exported, MANIFEST, manifest)
    assert bundle_problems(exported) == [
        "bundle.json: format version 2 is not supported (this version reads 1)"
    ]


def test_every_bad_layer_file_is_named_at_once(exported):
    (exported / "crm.tag/base.json").unlink()
    write(exported, "crm.contact/custom.json", "{not json")
    write(exported, "my.note/base.json", ["a", "list"])
    problems = bundle_problems(exported)
    assert (
        problems[0]
        == "crm.contact/custom.json: is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"
    )
    assert problems[1:] == [
        "crm.tag/base.json: is missing",
        "my.note/base.json: must hold a JSON object",
    ]


def test_a_base_file_defining_another_entity_is_refused(exported):
    doc = json.loads((exported / "crm.tag/base.json").read_text())
    doc["x-xrm"]["name"] = "crm.label"
    write(exported, "crm.tag/base.json", doc)
    assert bundle_problems(exported) == [
        "crm.tag/base.json: defines entity 'crm.label', but the manifest lists it as 'crm.tag'"
    ]


def test_a_file_outside_the_bundle_folder_is_refused(exported, tmp_path):
    write(tmp_path, "secret.json", {"x-xrm": {"name": "crm.tag"}, "properties": {}})
    manifest = manifest_of(exported)
    manifest["entities"]["crm.tag"]["layers"][0]["file"] = "../secret.json"
    write(exported, MANIFEST, manifest)
    assert bundle_problems(exported) == ["../secret.json: points outside the bundle folder"]


def test_a_layer_listed_twice_is_refused(exported):
    manifest = manifest_of(exported)
    layers = manifest["entities"]["crm.tag"]["layers"]
    layers.append(dict(layers[0]))
    write(exported, MANIFEST, manifest)
    assert bundle_problems(exported) == ["bundle.json: crm.tag lists layer 'base' twice"]


def test_an_option_set_file_with_another_set_is_refused(exported):
    write(exported, "option-sets/crm.industry.json", {**INDUSTRY, "name": "crm.sector"})
    assert bundle_problems(exported) == [
        "option-sets/crm.industry.json: must hold the option set 'crm.industry' (found 'crm.sector')"
    ]


def test_a_bad_bundle_changes_nothing_on_import(other_registry, exported, state):
    (exported / "crm.tag/base.json").unlink()
    before = state(other_registry)
    with pytest.raises(BundleInvalid) as info:
        import_bundle(other_registry, exported)
    assert "crm.tag/base.json: is missing" in str(info.value)
    assert state(other_registry) == before
