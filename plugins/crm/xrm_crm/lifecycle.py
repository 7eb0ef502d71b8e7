"""Record-lifecycle behaviour of the CRM entities (called from the plugin's hooks).

- accounts and contacts stand for a shared party (``xrm_party.PartyLink``);
- converting a lead creates an account (unless the lead names one), a contact and an
  opportunity through the workflow's ``createRecord`` actions, in that order; each carries the
  lead, and the hooks here link them: the contact and the opportunity get the account, the
  opportunity the contact;
- an opportunity always belongs to an account.
"""

from __future__ import annotations

from xrm_party import PartyLink

from xrm.core.plugins import SYSTEM, RecordEvent, RecordVetoed

LINKS = (
    PartyLink("crm.account", "organization", "party.organization", {"name": "name"}, ("name",)),
    PartyLink(
        "crm.contact",
        "person",
        "party.person",
        {
            "salutation": "salutation",
            "first_name": "first_name",
            "last_name": "last_name",
            "email": "email",
            "phone": "phone",
            "mobile": "mobile",
            "job_title": "job_title",
        },
        ("last_name",),
    ),
)


def _converted(event: RecordEvent, entity: str, lead_id: int) -> dict | None:
    found = event.records.query(
        event.conn, SYSTEM, entity, {"originating_lead": f"eq.{lead_id}", "limit": "1"}
    )
    return found[0] if found else None


def before_create(event: RecordEvent) -> None:
    values = event.values
    if event.entity == "crm.contact" and values.get("originating_lead"):
        if values.get("account") is None:
            account = _converted(event, "crm.account", values["originating_lead"])
            if account:
                values["account"] = account["id"]
    elif event.entity == "crm.opportunity":
        lead = values.get("lead")
        if lead is not None:
            if values.get("account") is None:
                account = _converted(event, "crm.account", lead)
                if account:
                    values["account"] = account["id"]
            if values.get("contact") is None:
                contact = _converted(event, "crm.contact", lead)
                if contact:
                    values["contact"] = contact["id"]
        if values.get("account") is None:
            raise RecordVetoed("an opportunity belongs to an account", field="account")


def after_create(event: RecordEvent) -> None:
    """A contact's person without an employer works at the contact's account."""
    if event.entity != "crm.contact" or not event.after or not event.after.get("account"):
        return
    person = event.records.get(event.conn, SYSTEM, "party.person", event.after["person"])
    if person.get("organization") is None:
        account = event.records.get(event.conn, SYSTEM, "crm.account", event.after["account"])
        event.records.update(
            event.conn,
            SYSTEM,
            "party.person",
            person["id"],
            {"organization": account["organization"]},
        )
