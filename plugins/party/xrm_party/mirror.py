"""Role records that stand for a party record, kept in step with it.

A role entity (``crm.account``, ``vrm.supplier``, ``srm.stakeholder``, ``brm.partner``,
``crm.contact``...) has a unique reference to its party (``party.organization`` or
``party.person``) and copies of a few of the party's fields (the name, the e-mail) so that its
own lists, searches and titles need no join. :class:`PartyLink` describes one such role and
implements the behaviour every role plugin wants, from its record-lifecycle hooks:

- creating a role record **without** a party creates the party from the copied fields (so
  "new account: Acme" still works in one step); the actor needs the right to create parties;
- creating it **with** a party fills the copies it was not given from the party;
- changing the copies on the role record changes the party (as the actor, so party
  permissions hold);
- changing the party changes the copies on every role record of it (as the platform: keeping
  a copy right is not the user's business).

Every write goes through the record service (``event.records`` on ``event.conn``), inside the
transaction of the write that triggered it. Propagation stops as soon as values agree, so a
change never loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xrm.core.plugins import SYSTEM, RecordEvent, RecordVetoed


@dataclass(frozen=True)
class PartyLink:
    """``entity.link`` references ``party``; ``fields`` maps role field -> party field."""

    entity: str
    link: str
    party: str
    fields: dict[str, str]
    required: tuple[str, ...] = ()  # role fields needed to create the party
    #: other links of the role entity: when one of them is given, this link stays empty
    #: (a stakeholder is an organisation *or* a person)
    unless: tuple[str, ...] = ()

    # -- role record hooks ---------------------------------------------------------------------

    def before_create(self, event: RecordEvent) -> None:
        if event.entity != self.entity:
            return
        values = event.values
        party_id = values.get(self.link)
        if party_id is None and any(values.get(f) is not None for f in self.unless):
            return
        if party_id is not None:
            party = event.records.get(event.conn, event.actor, self.party, party_id)
            for role_field, party_field in self.fields.items():
                if values.get(role_field) is None and party.get(party_field) is not None:
                    values[role_field] = party[party_field]
            return
        missing = [f for f in self.required if values.get(f) in (None, "")]
        if missing:
            raise RecordVetoed(
                f"{self.entity} needs a {self.link} (an existing {self.party}) or "
                f"{', '.join(missing)} to create one",
                field=self.link,
            )
        data = {
            pf: values[rf] for rf, pf in self.fields.items() if values.get(rf) not in (None, "")
        }
        party = event.records.create(event.conn, event.actor, self.party, data)
        values[self.link] = party["id"]

    def before_update(self, event: RecordEvent) -> None:
        if event.entity != self.entity or self.link not in event.values:
            return
        party_id = event.values[self.link]
        if party_id is None and self.unless:
            return
        if party_id is None:
            raise RecordVetoed(
                f"a {self.entity} record always stands for a {self.party}; "
                f"link it to another one instead of removing the link",
                field=self.link,
            )
        if party_id == (event.before or {}).get(self.link):
            return
        party = event.records.get(event.conn, event.actor, self.party, party_id)
        for role_field, party_field in self.fields.items():
            if role_field not in event.values:
                event.values[role_field] = party.get(party_field)

    def after_update(self, event: RecordEvent) -> None:
        """Copies changed on the role record: change the party (as the actor)."""
        if event.entity != self.entity or event.after is None:
            return
        changed = {rf for rf in self.fields if rf in event.values}
        party_id = event.after.get(self.link)
        if not changed or party_id is None:
            return
        party = event.records.get(event.conn, SYSTEM, self.party, party_id)
        diff = {
            self.fields[rf]: event.after.get(rf)
            for rf in changed
            if party.get(self.fields[rf]) != event.after.get(rf)
        }
        if diff:
            event.records.update(event.conn, event.actor, self.party, party_id, diff)

    # -- party hooks ---------------------------------------------------------------------------

    def party_updated(self, event: RecordEvent) -> None:
        """The party changed: refresh the copies on its role records (as the platform)."""
        if event.entity != self.party or event.after is None:
            return
        party_fields = set(self.fields.values())
        if not party_fields & set(event.values):
            return
        for role in role_records(event, self.entity, self.link, event.record_id):
            diff = {
                rf: event.after.get(pf)
                for rf, pf in self.fields.items()
                if pf in event.values and role.get(rf) != event.after.get(pf)
            }
            if diff:
                event.records.update(event.conn, SYSTEM, self.entity, role["id"], diff)


def role_records(event: RecordEvent, entity: str, link: str, party_id: Any) -> list[dict]:
    """The records of ``entity`` linked to ``party_id`` (seen by the platform)."""
    return event.records.query(event.conn, SYSTEM, entity, {link: f"eq.{party_id}"})


def roles_of(links: tuple[PartyLink, ...]) -> list[str]:
    """The role entities of ``links``: what their role record hooks (``before_create``,
    ``before_update``, ``after_update``) concern, for ``xrm.core.plugins.concerns``."""
    return [link.entity for link in links]


def parties_of(links: tuple[PartyLink, ...]) -> list[str]:
    """The party entities of ``links``: what their ``party_updated`` hook concerns."""
    return sorted({link.party for link in links})


def dispatch(links: tuple[PartyLink, ...], hook: str, event: RecordEvent) -> None:
    """Run ``hook`` of every link; role plugins call this from their hook implementations."""
    for link in links:
        getattr(link, hook)(event)
