"""Record-lifecycle behaviour of the stakeholder entities (called from the plugin's hooks).

- a stakeholder is an organisation (``PartyLink`` on ``organization``) or a person; a person
  stakeholder's name is the person's full name, kept in step with the person;
- only shareholders and investors hold shares;
- an engagement moves its stakeholder's "last engaged on" forward.
"""

from __future__ import annotations

from xrm_party import PartyLink, role_records

from xrm.core.plugins import SYSTEM, RecordEvent, RecordVetoed

LINKS = (
    PartyLink(
        "srm.stakeholder",
        "organization",
        "party.organization",
        {"name": "name"},
        ("name",),
        unless=("person",),
    ),
)
HOLDERS = ("shareholder", "investor")


def full_name(person: dict) -> str:
    return " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p)


def before_create(event: RecordEvent) -> None:
    values = event.values
    if event.entity == "srm.stakeholder" and values.get("person") is not None:
        person = event.records.get(event.conn, event.actor, "party.person", values["person"])
        values["name"] = full_name(person)
    elif event.entity == "srm.shareholding" and values.get("stakeholder") is not None:
        holder = event.records.get(event.conn, SYSTEM, "srm.stakeholder", values["stakeholder"])
        if holder["stakeholder_type"] not in HOLDERS:
            raise RecordVetoed(
                f"{holder['name']} is a {holder['stakeholder_type']} stakeholder; only "
                "shareholders and investors hold shares (change the stakeholder's type first)",
                field="stakeholder",
            )


def before_update(event: RecordEvent) -> None:
    if event.entity == "srm.stakeholder" and event.values.get("person") is not None:
        person = event.records.get(event.conn, event.actor, "party.person", event.values["person"])
        event.values["name"] = full_name(person)


def person_updated(event: RecordEvent) -> None:
    if event.entity != "party.person" or not event.after:
        return
    if not {"first_name", "last_name"} & set(event.values):
        return
    name = full_name(event.after)
    for holder in role_records(event, "srm.stakeholder", "person", event.record_id):
        if holder.get("name") != name:
            event.records.update(
                event.conn, SYSTEM, "srm.stakeholder", holder["id"], {"name": name}
            )


def engagement_written(event: RecordEvent) -> None:
    if event.entity != "srm.engagement" or not event.after:
        return
    holder = event.records.get(event.conn, SYSTEM, "srm.stakeholder", event.after["stakeholder"])
    engaged = event.after["engaged_on"]
    if holder.get("last_engaged_on") is None or holder["last_engaged_on"] < engaged:
        event.records.update(
            event.conn, SYSTEM, "srm.stakeholder", holder["id"], {"last_engaged_on": engaged}
        )
