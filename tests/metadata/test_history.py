"""Every applied change keeps the previous definition: one revision per entity per apply."""

from __future__ import annotations

import pytest

from xrm.metadata.errors import UnknownEntity


def account(**props):
    return {"x-xrm": {"name": "crm.account"}, "properties": {"name": {"type": "string"}, **props}}


def test_each_apply_adds_a_revision(registry):
    registry.apply(registry.plan([account()]))
    registry.apply(registry.plan([account(size={"type": "integer"})]))
    registry.apply(registry.plan([account(size={"type": "integer"}, city={"type": "string"})]))
    history = registry.history("crm.account")
    assert [h["revision"] for h in history] == [1, 2, 3]
    assert [h["metadataVersion"] for h in history] == [1, 2, 3]


def test_a_revision_keeps_the_definition_as_it_was(registry):
    registry.apply(registry.plan([account()]))
    registry.apply(registry.plan([account(size={"type": "integer"})]))
    first, second = registry.history("crm.account")
    assert list(first["definition"]["properties"]) == ["name"]
    assert list(second["definition"]["properties"]) == ["name", "size"]


def test_a_revision_records_the_operations_that_produced_it(registry):
    registry.apply(registry.plan([account()]))
    registry.apply(registry.plan([account(size={"type": "integer"})]))
    first, second = registry.history("crm.account")
    assert [op["op"] for op in first["operations"]] == ["create_entity"]
    assert {"op": "add_field", "field": "size"}.items() <= second["operations"][-1].items()


def test_a_revision_records_who_applied_it_and_when(registry):
    registry.apply(registry.plan([account()]), actor="admin@example.org")
    [entry] = registry.history("crm.account")
    assert entry["appliedBy"] == "admin@example.org"
    assert entry["appliedAt"].endswith("Z")


def test_an_apply_only_adds_revisions_to_the_entities_it_changes(registry):
    contact = {"x-xrm": {"name": "crm.contact"}, "properties": {"name": {"type": "string"}}}
    registry.apply(registry.plan([account(), contact]))
    registry.apply(registry.plan([account(size={"type": "integer"}), contact]))
    assert len(registry.history("crm.account")) == 2
    assert len(registry.history("crm.contact")) == 1


def test_a_refused_apply_adds_no_revision(registry, records):
    from xrm.metadata.errors import PlanRefused

    registry.apply(registry.plan([account(code={"type": "string"})]))
    records.insert("crm.account", name="a", code="X")
    records.insert("crm.account", name="b", code="X")
    with pytest.raises(PlanRefused):
        registry.apply(
            registry.plan([account(code={"type": "string", "x-xrm": {"unique": True}})]),
            confirm=True,
        )
    assert len(registry.history("crm.account")) == 1


def test_removing_an_entity_ends_its_history_with_an_empty_revision(registry):
    registry.apply(registry.plan([account()]))
    registry.apply(registry.plan(removed=["crm.account"]), confirm=True)
    history = registry.history("crm.account")
    assert [h["revision"] for h in history] == [1, 2]
    assert history[-1]["definition"] is None
    assert [op["op"] for op in history[-1]["operations"]] == ["archive_entity"]


def test_the_history_of_an_unknown_entity_is_an_unknown_entity_error(registry):
    with pytest.raises(UnknownEntity) as info:
        registry.history("crm.ghost")
    assert info.value.status == 404
    assert "crm.ghost" in str(info.value)
