"""Bulk updates with every domain plugin installed: the plugins' record hooks declare the
entities they concern (``xrm.core.plugins.concerns``), so an entity none of them concerns is
updated set-based (one UPDATE for the batch), while a hooked entity still goes record by
record with its hooks (a party's copies kept in step)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from models_support import MODELS, create

from xrm.core.context import SYSTEM
from xrm.core.plugins.concerns import hooked
from xrm.core.transfer import ImportOptions, import_file

NOTE = {
    "x-xrm": {"name": "test.note"},
    "required": ["title"],
    "properties": {
        "title": {"type": "string"},
        "code": {"type": "string", "x-xrm": {"unique": True}},
    },
}


@pytest.fixture
def everything(installed):
    p = installed(*MODELS)
    p.registry.apply_documents([NOTE])
    return p


def updates_of(engine, table: str) -> list[str]:
    """The UPDATE statements of ``table`` sent while the returned list is being filled."""
    sent: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE") and f" {table} " in f" {statement} ":
            sent.append(statement)

    return sent


def test_every_domain_plugin_declares_the_entities_of_its_update_hooks(everything):
    for name in ("xrm_before_update", "xrm_after_update"):
        for impl in getattr(everything.hooks, name).get_hookimpls():
            assert getattr(impl.function, "xrm_entities", None), (impl.plugin_name, name)
    assert not hooked(everything.hooks, "xrm_after_update", "test.note")
    assert hooked(everything.hooks, "xrm_after_update", "crm.account")
    assert hooked(everything.hooks, "xrm_after_update", "party.organization")


def test_a_bulk_update_of_an_entity_no_plugin_hooks_is_set_based_with_every_plugin(everything):
    p = everything
    with p.engine.begin() as conn:
        made = p.records.create_many(
            conn, SYSTEM, "test.note", [{"title": f"n{i}"} for i in range(5)]
        )
    sent = updates_of(p.engine, "test_note")
    with p.engine.begin() as conn:
        written = p.records.update_many(
            conn, SYSTEM, "test.note", [(r["id"], {"title": r["title"].upper()}) for r in made]
        )
    assert written is not None and [r["title"] for r in written] == [f"N{i}" for i in range(5)]
    assert len(sent) == 1  # one executemany for the five records


def test_an_import_updates_an_entity_no_plugin_hooks_set_based(everything):
    p = everything
    with p.engine.begin() as conn:
        p.records.create_many(
            conn, SYSTEM, "test.note", [{"title": f"n{i}", "code": f"c{i}"} for i in range(4)]
        )
    sent = updates_of(p.engine, "test_note")
    text = "code,title\n" + "".join(f"c{i},New {i}\n" for i in range(4))
    with p.engine.begin() as conn:
        report = import_file(
            p.records, conn, SYSTEM, "test.note", text.encode(), ImportOptions(key=("code",))
        )
    assert (report.updated, report.skipped) == (4, 0) and len(sent) == 1


def test_a_bulk_update_of_a_hooked_entity_still_runs_its_hooks_per_record(everything):
    p = everything
    with p.engine.begin() as conn:
        accounts = [create(p, conn, "crm.account", {"name": f"Acme {i}"}) for i in range(3)]
    with p.engine.begin() as conn:
        items = [(a["id"], {"name": f"Globex {i}"}) for i, a in enumerate(accounts)]
        assert p.records.update_many(conn, SYSTEM, "crm.account", items) is None
    # As the bulk API and the import then do: record by record, with the hooks.
    text = "id,name\n" + "".join(f"{a['id']},Initech {i}\n" for i, a in enumerate(accounts))
    with p.engine.begin() as conn:
        report = import_file(
            p.records, conn, SYSTEM, "crm.account", text.encode(), ImportOptions(key=("id",))
        )
        assert report.updated == 3
        orgs = [
            p.records.get(conn, SYSTEM, "party.organization", a["organization"])["name"]
            for a in accounts
        ]
    assert orgs == ["Initech 0", "Initech 1", "Initech 2"]  # the crm hook kept them in step
