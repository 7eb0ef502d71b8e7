"""A new workflow version that removes states records sit in needs a mapping from the old
states to new ones; renames declared with renamedFrom map themselves."""

from __future__ import annotations

import pytest

from xrm.workflow import StateMappingRequired, check_workflow, diff_states, state_mapping


@pytest.fixture
def old(discount_wf):
    return discount_wf.definition


def new_version(doc, entity, edit):
    edit(doc)
    return check_workflow(doc, entity).definition


def drop_quoted(doc):
    """Version 2 sends quotes straight to won/lost: 'quoted' disappears."""
    del doc["states"]["quoted"]
    doc["transitions"] = [
        {"name": "win", "from": "draft", "to": "won"},
        {"name": "lose", "from": "draft", "to": "lost", "requiredFields": ["lost_reason"]},
    ]


def test_the_diff_lists_removed_and_added_states(old, discount_doc, opportunity):
    new = new_version(discount_doc, opportunity, drop_quoted)
    diff = diff_states(old, new)
    assert diff.removed == ("quoted",) and diff.added == () and diff.unmapped == ("quoted",)


def test_a_removed_state_with_records_demands_a_mapping(old, discount_doc, opportunity):
    new = new_version(discount_doc, opportunity, drop_quoted)
    with pytest.raises(StateMappingRequired) as info:
        state_mapping(old, new, counts={"quoted": 12, "draft": 3})
    assert info.value.status == 409
    assert [str(f) for f in info.value.findings] == [
        "error: /mapping/quoted: state 'quoted' is removed and 12 record(s) are in it: "
        "map it to one of draft, won, lost"
    ]


def test_a_removed_state_without_records_needs_no_mapping(old, discount_doc, opportunity):
    new = new_version(discount_doc, opportunity, drop_quoted)
    assert state_mapping(old, new, counts={"draft": 3}) == {}


def test_a_given_mapping_is_returned(old, discount_doc, opportunity):
    new = new_version(discount_doc, opportunity, drop_quoted)
    assert state_mapping(old, new, {"quoted": "draft"}, counts={"quoted": 12}) == {
        "quoted": "draft"
    }


def test_a_mapping_must_point_to_a_state_of_the_new_version(old, discount_doc, opportunity):
    new = new_version(discount_doc, opportunity, drop_quoted)
    with pytest.raises(StateMappingRequired) as info:
        state_mapping(old, new, {"quoted": "sent", "draft": "won"})
    assert [f.message for f in info.value.findings] == [
        "'sent' is not a state of the new version",
        "state 'draft' is not removed by the new version",
    ]


def test_a_renamed_state_maps_itself(old, discount_doc, opportunity, opportunity_with_sent):
    def rename(doc):
        doc["states"]["sent"] = {**doc["states"].pop("quoted"), "renamedFrom": "quoted"}
        for t in doc["transitions"]:
            t["from"] = [
                "sent" if s == "quoted" else s
                for s in ([t["from"]] if isinstance(t["from"], str) else t["from"])
            ]
            t["to"] = "sent" if t["to"] == "quoted" else t["to"]

    new = new_version(discount_doc, opportunity_with_sent, rename)
    diff = diff_states(old, new)
    assert dict(diff.renamed) == {"quoted": "sent"} and diff.unmapped == () and diff.added == ()
    assert state_mapping(old, new, counts={"quoted": 12}) == {"quoted": "sent"}
