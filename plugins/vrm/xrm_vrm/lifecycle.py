"""Record-lifecycle behaviour of the supplier entities (called from the plugin's hooks).

- suppliers and supplier contacts stand for a shared party (``xrm_party.PartyLink``);
- a supplier's ``last_score`` and ``rating`` follow its most recent evaluation (rules compute
  an evaluation's own score; a roll-up across records is a hook's job);
- agreements may be drafted for any supplier, but a blocked or rejected one gets no new one.
"""

from __future__ import annotations

from xrm_party import PartyLink

from xrm.core.plugins import SYSTEM, RecordEvent, RecordVetoed

LINKS = (
    PartyLink("vrm.supplier", "organization", "party.organization", {"name": "name"}, ("name",)),
    PartyLink(
        "vrm.supplier_contact",
        "person",
        "party.person",
        {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone"},
        ("last_name",),
    ),
)


def before_create(event: RecordEvent) -> None:
    if event.entity in ("vrm.agreement", "vrm.evaluation") and event.values.get("supplier"):
        supplier = event.records.get(event.conn, SYSTEM, "vrm.supplier", event.values["supplier"])
        if event.entity == "vrm.agreement" and supplier["status"] in ("blocked", "rejected"):
            raise RecordVetoed(
                f"supplier {supplier['name']} is {supplier['status']}: no new agreements",
                field="supplier",
            )


def evaluation_written(event: RecordEvent) -> None:
    """Roll the latest evaluation's score and rating up to the supplier."""
    if event.entity != "vrm.evaluation" or not event.after:
        return
    supplier_id = event.after["supplier"]
    latest = event.records.query(
        event.conn,
        SYSTEM,
        "vrm.evaluation",
        {"supplier": f"eq.{supplier_id}", "order": "evaluated_on.desc,id.desc", "limit": "1"},
    )
    if not latest:
        return
    supplier = event.records.get(event.conn, SYSTEM, "vrm.supplier", supplier_id)
    values = {"last_score": latest[0]["score"], "rating": latest[0]["rating"]}
    if any(supplier.get(k) != v for k, v in values.items()):
        event.records.update(event.conn, SYSTEM, "vrm.supplier", supplier_id, values)
