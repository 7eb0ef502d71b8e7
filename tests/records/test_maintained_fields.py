"""System-maintained fields (``x-xrm.maintainedBy``): plugin code acting as the platform writes
them, users cannot (422 ``read_only``, as for computed fields and roll-ups)."""

from __future__ import annotations

import pytest

from xrm.core.context import SYSTEM, Actor
from xrm.core.plugins import create_plugin_manager, hookimpl
from xrm.core.records.errors import RecordInvalid
from xrm.core.records.service import RecordService
from xrm.metadata.errors import DefinitionInvalid
from xrm.metadata.validation import check_definition

ADMIN = Actor(user_id=1, username="ada", roles=("Admin",), is_admin=True)

SUPPLIER = {
    "x-xrm": {"name": "vrm.supplier"},
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "last_score": {
            "x-xrm": {"type": "decimal", "precision": 3, "scale": 2, "maintainedBy": "evaluations"}
        },
    },
}
EVALUATION = {
    "x-xrm": {"name": "vrm.evaluation"},
    "properties": {
        "supplier": {"x-xrm": {"type": "reference", "target": "vrm.supplier"}},
        "score": {"x-xrm": {"type": "decimal", "precision": 3, "scale": 2}},
    },
}


class ScoreRollUp:
    """What the VRM plugin does: an evaluation's score goes to its supplier, as the platform."""

    @hookimpl
    def xrm_after_create(self, event):
        if event.entity == "vrm.evaluation":
            event.records.update(
                event.conn,
                SYSTEM,
                "vrm.supplier",
                event.after["supplier"],
                {"last_score": event.after["score"]},
            )


@pytest.fixture
def service(registry):
    registry.apply_documents([SUPPLIER, EVALUATION])
    hooks = create_plugin_manager(discover=False, extra={"roll_up": ScoreRollUp()}).hook
    return RecordService(registry, hooks=hooks)


def write(service, fn, *args):
    with service.registry.engine.begin() as conn:
        return getattr(service, fn)(conn, *args)


def test_a_user_writing_a_maintained_field_gets_a_read_only_problem_naming_it(service):
    supplier = write(service, "create", ADMIN, "vrm.supplier", {"name": "Acme"})
    with pytest.raises(RecordInvalid) as refused:
        write(service, "update", ADMIN, "vrm.supplier", supplier["id"], {"last_score": "4.5"})
    (problem,) = refused.value.problems
    assert (problem["field"], problem["code"]) == ("last_score", "read_only")
    assert "Last score is read-only" in problem["message"] and "evaluations" in problem["message"]


def test_a_user_cannot_set_a_maintained_field_on_create(service):
    with pytest.raises(RecordInvalid) as refused:
        write(service, "create", ADMIN, "vrm.supplier", {"name": "Acme", "last_score": 5})
    assert [p["field"] for p in refused.value.problems] == ["last_score"]


def test_a_hook_writing_as_the_platform_keeps_the_field_up_to_date(service):
    supplier = write(service, "create", ADMIN, "vrm.supplier", {"name": "Acme"})
    write(service, "create", ADMIN, "vrm.evaluation", {"supplier": supplier["id"], "score": 3.7})
    with service.registry.engine.connect() as conn:
        assert service.get(conn, ADMIN, "vrm.supplier", supplier["id"])["last_score"] == "3.70"


def test_sending_the_unchanged_value_or_an_empty_one_on_create_is_accepted(service):
    supplier = write(service, "create", ADMIN, "vrm.supplier", {"name": "A", "last_score": None})
    write(service, "update", SYSTEM, "vrm.supplier", supplier["id"], {"last_score": "4.2"})
    # a form sending the whole record back: the same value, written differently
    after = write(
        service, "update", ADMIN, "vrm.supplier", supplier["id"], {"name": "B", "last_score": 4.2}
    )
    assert (after["name"], after["last_score"]) == ("B", "4.20")


def test_the_record_schema_and_form_mark_the_field_read_only(registry):
    registry.apply_documents([SUPPLIER])
    with registry.engine.connect() as conn:
        ce = registry.snapshot(conn).entity("vrm.supplier")
    assert ce.record_schema["properties"]["last_score"]["readOnly"] is True
    assert "last_score" not in ce.input_schema["properties"]
    (field,) = [f for f in ce.form_spec["fields"] if f["name"] == "last_score"]
    assert field["readOnly"] is True and field["maintainedBy"] == "evaluations"


@pytest.mark.parametrize(
    ("prop", "required", "message"),
    [
        ({"readOnly": True, "type": "string"}, False, "nothing could write it"),
        ({"type": "string"}, True, "required without a default"),
        ({"type": "string", "x-xrm": {"maintainedBy": ""}}, False, "should be non-empty"),
    ],
)
def test_contradictory_maintained_fields_are_refused_by_the_meta_schema(prop, required, message):
    prop = {**prop, "x-xrm": {"maintainedBy": "a hook", **prop.get("x-xrm", {})}}
    doc = {
        "x-xrm": {"name": "vrm.thing"},
        "required": ["f"] if required else [],
        "properties": {"f": prop},
    }
    with pytest.raises(DefinitionInvalid) as refused:
        check_definition(doc, {})
    problems = refused.value.problems
    assert any(p.pointer.startswith("/properties/f") and message in p.message for p in problems), (
        problems
    )
