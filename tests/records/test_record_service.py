"""The record service: the one write path, with permissions, audit, outbox and recycle bin."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from xrm.core.context import SYSTEM, Actor
from xrm.core.records.errors import RecordConflict, RecordNotFound, RecordVersionMismatch
from xrm.core.security import grants
from xrm.core.security.access import AccessDenied
from xrm.core.tables import audit, outbox

ACCOUNT = {
    "x-xrm": {"name": "crm.account"},
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "revenue": {"type": "integer"}},
}


def contact(on_delete="restrict", salary=False):
    props = {
        "name": {"type": "string"},
        "account": {"x-xrm": {"type": "reference", "target": "crm.account", "onDelete": on_delete}},
    }
    if salary:
        props["salary"] = {"type": "integer"}
    return {"x-xrm": {"name": "crm.contact"}, "properties": props}


@pytest.fixture
def platform(make_app):
    return make_app().extensions["xrm"]


def setup(p, *docs):
    p.registry.apply_documents(list(docs or [ACCOUNT]))


def user(p, name, role, user_id):
    with p.engine.begin() as conn:
        grants.ensure_role(conn, role)
    return Actor(user_id=user_id, username=name, roles=(role,))


def test_every_write_is_audited_with_old_and_new_values(platform):
    setup(platform)
    with platform.engine.begin() as conn:
        rid = platform.records.create(conn, SYSTEM, "crm.account", {"name": "Acme", "revenue": 5})[
            "id"
        ]
        platform.records.update(conn, SYSTEM, "crm.account", rid, {"revenue": 7})
    with platform.engine.connect() as conn:
        entries = platform.records.history(conn, SYSTEM, "crm.account", rid)
    assert [e["action"] for e in entries] == ["update", "create"]
    assert entries[0]["changes"] == {"revenue": {"old": 5, "new": 7}}
    assert entries[1]["changes"]["name"] == {"old": None, "new": "Acme"}
    assert entries[0]["actor"]["username"] == "system"


def test_an_entity_with_audit_off_writes_no_audit_rows(platform):
    setup(platform, {**ACCOUNT, "x-xrm": {"name": "crm.account", "audit": False}})
    with platform.engine.begin() as conn:
        platform.records.create(conn, SYSTEM, "crm.account", {"name": "Acme"})
        assert conn.execute(sa.select(sa.func.count()).select_from(audit)).scalar() == 0


def test_each_write_leaves_an_outbox_message_in_the_same_transaction(platform):
    setup(platform)
    with pytest.raises(RuntimeError), platform.engine.begin() as conn:
        platform.records.create(conn, SYSTEM, "crm.account", {"name": "Lost"})
        raise RuntimeError("the transaction fails after the write")
    with platform.engine.begin() as conn:
        rid = platform.records.create(conn, SYSTEM, "crm.account", {"name": "Kept"})["id"]
    with platform.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.topic, outbox.c.payload)).all()
    assert [r.topic for r in rows] == ["record.created"]
    assert json.loads(rows[0].payload)["id"] == rid


def test_optimistic_concurrency_refuses_a_stale_version(platform):
    setup(platform)
    with platform.engine.begin() as conn:
        rid = platform.records.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        platform.records.update(
            conn, SYSTEM, "crm.account", rid, {"revenue": 1}, expected_version=1
        )
        with pytest.raises(RecordVersionMismatch):
            platform.records.update(
                conn, SYSTEM, "crm.account", rid, {"revenue": 2}, expected_version=1
            )


def test_delete_moves_to_the_recycle_bin_and_restore_brings_it_back(platform):
    setup(platform)
    rs = platform.records
    with platform.engine.begin() as conn:
        rid = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        rs.delete(conn, SYSTEM, "crm.account", rid)
        with pytest.raises(RecordNotFound):
            rs.get(conn, SYSTEM, "crm.account", rid)
        assert rs.restore(conn, SYSTEM, "crm.account", rid)["name"] == "Acme"
        assert rs.get(conn, SYSTEM, "crm.account", rid)["name"] == "Acme"


def test_restrict_refuses_deleting_a_referenced_record(platform):
    setup(platform, ACCOUNT, contact("restrict"))
    rs = platform.records
    with platform.engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        rs.create(conn, SYSTEM, "crm.contact", {"name": "Ann", "account": acc})
        with pytest.raises(RecordConflict, match=r"crm\.contact\.account"):
            rs.delete(conn, SYSTEM, "crm.account", acc)


def test_cascade_deletes_and_restores_the_children_together(platform):
    setup(platform, ACCOUNT, contact("cascade"))
    rs = platform.records
    with platform.engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        con = rs.create(conn, SYSTEM, "crm.contact", {"name": "Ann", "account": acc})["id"]
        rs.delete(conn, SYSTEM, "crm.account", acc)
        with pytest.raises(RecordNotFound):
            rs.get(conn, SYSTEM, "crm.contact", con)
        rs.restore(conn, SYSTEM, "crm.account", acc)
        assert rs.get(conn, SYSTEM, "crm.contact", con)["account"] == acc


def test_set_null_clears_the_reference_of_the_children(platform):
    setup(platform, ACCOUNT, contact("setNull"))
    rs = platform.records
    with platform.engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        con = rs.create(conn, SYSTEM, "crm.contact", {"name": "Ann", "account": acc})["id"]
        rs.delete(conn, SYSTEM, "crm.account", acc)
        assert rs.get(conn, SYSTEM, "crm.contact", con)["account"] is None


def test_purge_removes_the_rows_for_good(platform):
    setup(platform, ACCOUNT, contact("cascade"))
    rs = platform.records
    with platform.engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        rs.create(conn, SYSTEM, "crm.contact", {"name": "Ann", "account": acc})
        rs.delete(conn, SYSTEM, "crm.account", acc)
        assert rs.purge(conn, SYSTEM, "crm.account", acc) == 2
        assert conn.execute(sa.text("SELECT count(*) FROM crm_contact")).scalar() == 0
        with pytest.raises(RecordNotFound):
            rs.restore(conn, SYSTEM, "crm.account", acc)


def test_a_unique_value_held_by_a_deleted_record_is_explained(platform):
    setup(platform, {**ACCOUNT, "x-xrm": {"name": "crm.account", "unique": [["name"]]}})
    rs = platform.records
    with platform.engine.begin() as conn:
        rid = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        rs.delete(conn, SYSTEM, "crm.account", rid)
        with pytest.raises(RecordConflict, match="recycle bin"):
            rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})


def test_a_role_without_the_create_permission_is_refused(platform):
    setup(platform)
    clerk = user(platform, "clerk", "Clerk", 7)
    with platform.engine.begin() as conn:
        grants.grant(conn, "Clerk", "crm.account", ["read"])
    with (
        platform.engine.begin() as conn,
        pytest.raises(AccessDenied, match=r"may not create crm\.account"),
    ):
        platform.records.create(conn, clerk, "crm.account", {"name": "Acme"})


def test_own_scope_hides_other_owners_records(platform):
    setup(platform)
    rep = user(platform, "rep", "Rep", 7)
    with platform.engine.begin() as conn:
        grants.grant(conn, "Rep", "crm.account", ["read", "create", "update"])
        grants.set_scope(conn, "Rep", "crm.account", "own")
        mine = platform.records.create(conn, rep, "crm.account", {"name": "Mine"})["id"]
        theirs = platform.records.create(
            conn, SYSTEM, "crm.account", {"name": "Theirs", "owner_id": 99}
        )["id"]
    with platform.engine.begin() as conn:
        assert platform.records.get(conn, rep, "crm.account", mine)["name"] == "Mine"
        with pytest.raises(RecordNotFound):
            platform.records.get(conn, rep, "crm.account", theirs)
        with pytest.raises(RecordNotFound):
            platform.records.update(conn, rep, "crm.account", theirs, {"revenue": 1})


def test_a_secured_field_is_absent_and_not_writable_without_the_right(platform):
    setup(platform, ACCOUNT, contact(salary=True))
    hr = user(platform, "hr", "HR", 8)
    rep = user(platform, "rep", "Rep", 9)
    with platform.engine.begin() as conn:
        for role in ("HR", "Rep"):
            grants.grant(conn, role, "crm.contact", ["read", "create", "update"])
        grants.secure_field(conn, "HR", "crm.contact", "salary", read=True, write=True)
        rid = platform.records.create(conn, hr, "crm.contact", {"name": "Ann", "salary": 5000})[
            "id"
        ]
    with platform.engine.begin() as conn:
        assert "salary" not in platform.records.get(conn, rep, "crm.contact", rid)
        assert platform.records.get(conn, hr, "crm.contact", rid)["salary"] == 5000
        with pytest.raises(AccessDenied, match="salary"):
            platform.records.update(conn, rep, "crm.contact", rid, {"salary": 1})
        platform.records.update(conn, hr, "crm.contact", rid, {"salary": 6000})
        history = platform.records.history(conn, rep, "crm.contact", rid)
        assert all("salary" not in e["changes"] for e in history)
        # A change of the secured field alone is not even shown as having happened.
        assert [e["action"] for e in history] == ["create"]
        assert [e["action"] for e in platform.records.history(conn, hr, "crm.contact", rid)] == [
            "update",
            "create",
        ]


def test_an_update_by_a_reader_of_fewer_fields_audits_only_what_changed(platform):
    setup(platform, ACCOUNT, contact(salary=True))
    hr = user(platform, "hr", "HR", 8)
    rep = user(platform, "rep", "Rep", 9)
    with platform.engine.begin() as conn:
        for role in ("HR", "Rep"):
            grants.grant(conn, role, "crm.contact", ["read", "create", "update"])
        grants.secure_field(conn, "HR", "crm.contact", "salary", read=True, write=True)
        rid = platform.records.create(conn, hr, "crm.contact", {"name": "Ann", "salary": 5000})[
            "id"
        ]
        platform.records.update(conn, rep, "crm.contact", rid, {"name": "Anna"})
        entries = platform.records.history(conn, hr, "crm.contact", rid)
    assert entries[0]["changes"] == {"name": {"old": "Ann", "new": "Anna"}}


def test_audit_retention_deletes_only_old_entries(platform):
    import datetime as dt

    from xrm.core.records import audit as audit_log

    setup(platform)
    with platform.engine.begin() as conn:
        rid = platform.records.create(conn, SYSTEM, "crm.account", {"name": "Old"})["id"]
        conn.execute(audit.update().values(at=dt.datetime(2020, 1, 1)))
        platform.records.update(conn, SYSTEM, "crm.account", rid, {"name": "New"})
        assert audit_log.purge_older_than(conn, days=30) == 1
        assert [
            e["action"] for e in platform.records.history(conn, SYSTEM, "crm.account", rid)
        ] == ["update"]


def test_the_widest_scope_of_the_actors_roles_wins(platform):
    setup(platform)
    both = Actor(user_id=7, username="both", roles=("Rep", "Lead"))
    with platform.engine.begin() as conn:
        grants.ensure_role(conn, "Rep")
        grants.ensure_role(conn, "Lead")
        grants.grant(conn, "Rep", "crm.account", ["read"])
        grants.set_scope(conn, "Rep", "crm.account", "own")
        grants.grant(conn, "Lead", "crm.account", ["read"])  # no scope row: all records
        theirs = platform.records.create(
            conn, SYSTEM, "crm.account", {"name": "Theirs", "owner_id": 99}
        )["id"]
        assert platform.records.get(conn, both, "crm.account", theirs)["name"] == "Theirs"


def test_purging_a_record_still_referenced_from_the_bin_is_a_clear_conflict(platform):
    setup(platform, ACCOUNT, contact("restrict"))
    rs = platform.records
    with platform.engine.begin() as conn:
        acc = rs.create(conn, SYSTEM, "crm.account", {"name": "Acme"})["id"]
        con = rs.create(conn, SYSTEM, "crm.contact", {"name": "Ann", "account": acc})["id"]
        rs.delete(conn, SYSTEM, "crm.contact", con)
        rs.delete(conn, SYSTEM, "crm.account", acc)
        with pytest.raises(RecordConflict, match="cannot be purged"):
            rs.purge(conn, SYSTEM, "crm.account", acc)


TAG = {"x-xrm": {"name": "crm.tag"}, "properties": {"name": {"type": "string"}}}
TAGGED = {
    "x-xrm": {"name": "crm.deal"},
    "properties": {
        "name": {"type": "string"},
        "tags": {"x-xrm": {"type": "manytomany", "target": "crm.tag"}},
    },
}


def test_replacing_links_keeps_those_to_records_the_writer_cannot_see(platform):
    setup(platform, TAG, TAGGED)
    rep = user(platform, "rep", "Rep", 7)
    with platform.engine.begin() as conn:
        grants.grant(conn, "Rep", "crm.tag", ["read", "create"])
        grants.set_scope(conn, "Rep", "crm.tag", "own")
        grants.grant(conn, "Rep", "crm.deal", ["read", "update"])
        records = platform.records
        secret = records.create(conn, SYSTEM, "crm.tag", {"name": "Secret", "owner_id": 99})["id"]
        mine = records.create(conn, rep, "crm.tag", {"name": "Mine"})["id"]
        other = records.create(conn, rep, "crm.tag", {"name": "Other"})["id"]
        deal = records.create(conn, SYSTEM, "crm.deal", {"name": "D", "tags": [secret, mine]})["id"]
    with platform.engine.begin() as conn:
        assert records.get(conn, rep, "crm.deal", deal)["tags"] == [mine]
        shown = records.update(conn, rep, "crm.deal", deal, {"tags": [other]})
        assert shown["tags"] == [other]
        assert records.get(conn, rep, "crm.deal", deal)["tags"] == [other]
        assert records.get(conn, SYSTEM, "crm.deal", deal)["tags"] == sorted([secret, other])


def test_replacing_links_keeps_those_to_records_in_the_recycle_bin(platform):
    setup(platform, TAG, TAGGED)
    records = platform.records
    with platform.engine.begin() as conn:
        gone = records.create(conn, SYSTEM, "crm.tag", {"name": "Gone"})["id"]
        kept = records.create(conn, SYSTEM, "crm.tag", {"name": "Kept"})["id"]
        deal = records.create(conn, SYSTEM, "crm.deal", {"name": "D", "tags": [gone]})["id"]
        records.delete(conn, SYSTEM, "crm.tag", gone)
        records.update(conn, SYSTEM, "crm.deal", deal, {"tags": [kept]})
        records.restore(conn, SYSTEM, "crm.tag", gone)
        assert records.get(conn, SYSTEM, "crm.deal", deal)["tags"] == sorted([gone, kept])


def test_reads_use_the_snapshot_of_their_connection_not_the_last_compiled_one(
    platform, monkeypatch
):
    """A request sees one metadata version throughout: links are filtered with the request's
    snapshot even when the registry's latest compiled snapshot is another one (here: none)."""
    setup(platform, TAG, TAGGED)
    records = platform.records
    with platform.engine.begin() as conn:
        gone = records.create(conn, SYSTEM, "crm.tag", {"name": "Gone"})["id"]
        deal = records.create(conn, SYSTEM, "crm.deal", {"name": "D", "tags": [gone]})["id"]
        records.delete(conn, SYSTEM, "crm.tag", gone)
    monkeypatch.setattr(type(platform.registry), "current", property(lambda self: None))
    with platform.engine.begin() as conn:
        assert records.get(conn, SYSTEM, "crm.deal", deal)["tags"] == []


def test_team_scope_shows_the_records_of_the_actors_teams_in_lists_and_gets(platform):
    from xrm.core.security import directory

    setup(platform)
    with platform.engine.begin() as conn:
        grants.grant(conn, "Rep", "crm.account", ["read", "create", "update"])
        grants.set_scope(conn, "Rep", "crm.account", "team")
        me, mate, other, loner = (
            directory.ensure_user(conn, name, name, "User", roles=["Rep"])
            for name in ("me", "mate", "other", "loner")
        )
        directory.ensure_team(conn, "north", [me, mate])
        directory.ensure_team(conn, "south", [other])
        ids = {
            owner: platform.records.create(
                conn, SYSTEM, "crm.account", {"name": name, "owner_id": owner}
            )["id"]
            for owner, name in ((me, "Mine"), (mate, "Mate's"), (other, "Other's"))
        }
    rep = Actor(user_id=me, username="me", roles=("Rep",))
    alone = Actor(user_id=loner, username="loner", roles=("Rep",))
    with platform.engine.begin() as conn:
        listed = platform.records.query(conn, rep, "crm.account", {"order": "id"})
        assert [r["name"] for r in listed] == ["Mine", "Mate's"]
        assert platform.records.get(conn, rep, "crm.account", ids[mate])["name"] == "Mate's"
        with pytest.raises(RecordNotFound):
            platform.records.get(conn, rep, "crm.account", ids[other])
        with pytest.raises(RecordNotFound):
            platform.records.update(conn, rep, "crm.account", ids[other], {"revenue": 1})
        # a user in no team sees only their own records (none here)
        assert platform.records.query(conn, alone, "crm.account", {}) == []


MANY_TYPES = {
    "x-xrm": {"name": "crm.deal"},
    "properties": {
        "name": {"type": "string"},
        "amount": {"x-xrm": {"type": "decimal", "precision": 12, "scale": 2}},
        "budget": {"x-xrm": {"type": "money", "defaultCurrency": "EUR"}},
        "closes": {"type": "string", "format": "date"},
        "seen_at": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "won": {"type": "boolean"},
    },
}


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Renamed"},
        {"budget": {"amount": "12.50", "currency": "USD"}, "won": True},
        {"amount": None, "closes": "2031-02-03", "seen_at": "2030-05-06T07:08:09Z"},
        {"tags": ["c"], "budget": None},
    ],
)
def test_an_update_returns_audits_and_sends_the_record_as_it_is_stored(platform, changes):
    setup(platform, MANY_TYPES)
    with platform.engine.begin() as conn:
        rid = platform.records.create(
            conn,
            SYSTEM,
            "crm.deal",
            {
                "name": "Deal",
                "amount": "10.00",
                "budget": {"amount": "5", "currency": "EUR"},
                "closes": "2030-01-02",
                "seen_at": "2030-01-02T03:04:05Z",
                "tags": ["a", "b"],
                "won": False,
            },
        )["id"]
        updated = platform.records.update(conn, SYSTEM, "crm.deal", rid, changes)
    with platform.engine.connect() as conn:
        stored = platform.records.get(conn, SYSTEM, "crm.deal", rid)
        sent = conn.execute(
            sa.select(outbox.c.payload).where(outbox.c.topic == "record.updated")
        ).scalar_one()
    # Only the fields written are dumped again after an UPDATE: the result is still the
    # record as read back, field for field.
    assert updated == stored
    assert json.loads(sent)["record"] == json.loads(json.dumps(stored, default=str))
