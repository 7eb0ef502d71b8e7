"""The batched write path: many records per statement, the record service's steps per record."""

from __future__ import annotations

import pytest
from transfer_support import ACCOUNT, CONTACT, TAG, Crm, csv_text

from xrm.core.context import SYSTEM
from xrm.core.plugins import RecordVetoed, create_plugin_manager, hookimpl
from xrm.core.records.service import RecordService


def test_new_ids_follow_the_highest_existing_id_even_in_the_recycle_bin(crm):
    first = crm.create("crm.contact", name="Ann")
    last = crm.create("crm.contact", name="Bob")
    with crm.engine.begin() as conn:
        crm.service.delete(conn, SYSTEM, "crm.contact", last)
    crm.import_(csv_text("name", "Cid", "Dan"))
    ids = [c["id"] for c in crm.all("crm.contact")]
    assert ids[0] == first and min(ids[1:]) > last and len(set(ids)) == 3


def test_create_many_returns_each_record_or_the_veto_that_refused_it(registry):
    class NoBobs:
        @hookimpl
        def xrm_before_create(self, event):
            if event.values["name"] == "Bob":
                raise RecordVetoed("no Bobs", field="name")

    registry.apply_documents([ACCOUNT, TAG, CONTACT])
    pm = create_plugin_manager(discover=False, extra={"no_bobs": NoBobs()})
    service = RecordService(registry, hooks=pm.hook)
    with registry.engine.begin() as conn:
        results = service.create_many(
            conn, SYSTEM, "crm.contact", [{"name": "Ann"}, {"name": "Bob"}], atomic=False
        )
    ann = Crm(registry).get("crm.contact", results[0]["id"])
    assert ann["name"] == "Ann" and ann["row_version"] == 1
    assert isinstance(results[1], RecordVetoed)


def test_a_record_refused_by_the_database_is_found_by_replaying_the_batch(registry):
    """Something may take a unique value between the checks and the INSERT (here a plugin, in
    real life another connection): the batch is replayed record by record through the record
    service, so only that row fails."""

    class Sneaky:
        @hookimpl
        def xrm_before_create(self, event):
            if event.values["name"] == "Ann":
                event.records.create(
                    event.conn, SYSTEM, "crm.contact", {"name": "Sneak", "email": "bob@example.org"}
                )

    registry.apply_documents([ACCOUNT, TAG, CONTACT])
    pm = create_plugin_manager(discover=False, extra={"sneaky": Sneaky()})
    crm = Crm(registry, RecordService(registry, hooks=pm.hook))
    report = crm.import_(
        csv_text("name,email", "Ann,ann@example.org", "Bob,bob@example.org", "Cid,cid@example.org"),
        mode="skip_bad_rows",
    )
    assert report.bad_rows == [3]
    assert "already has the same Email" in report.errors[0].message
    assert sorted(c["name"] for c in crm.all("crm.contact")) == ["Ann", "Cid", "Sneak"]


def test_create_many_needs_the_create_permission(registry):
    from xrm.core.context import Actor
    from xrm.core.security.access import Access, AccessDenied

    registry.apply_documents([ACCOUNT, TAG, CONTACT])
    service = RecordService(registry)
    rep = Actor(user_id=7, username="rep")
    with registry.engine.begin() as conn, pytest.raises(AccessDenied):
        service.create_many(conn, rep, "crm.contact", [{"name": "Ann"}], access=Access(actor=rep))
