"""Campaign members from a segment: a shared view on contacts, or a query in the API grammar.

Used by the ``crm.add_segment_members`` action type (the campaign workflow's *launch*) and by
the demo data. Members already in the campaign are kept; contacts who asked not to be e-mailed
are left out of e-mail campaigns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from xrm.core.plugins import RecordVetoed

PAGE = 1000


class SegmentError(RecordVetoed):
    """The campaign's segment cannot be resolved (unknown view, view of another entity)."""


def segment_params(campaign: Mapping[str, Any], views: Iterable[Mapping[str, Any]]) -> dict:
    """The contact query of a campaign's segment, as query parameters."""
    name = campaign.get("segment_view")
    if name:
        view = next((v for v in views if v.get("name") == name), None)
        if view is None:
            raise SegmentError(f"segment view {name!r} does not exist", field="segment_view")
        if view.get("entity") != "crm.contact":
            raise SegmentError(
                f"segment view {name!r} lists {view.get('entity')}, not crm.contact",
                field="segment_view",
            )
        query = view.get("query") or ""
    else:
        query = campaign.get("segment_query") or ""
    params = dict(parse_qsl(query, keep_blank_values=True))
    params.pop("order", None)
    params.pop("select", None)
    params.pop("limit", None)
    if campaign.get("campaign_type") == "email":
        params.setdefault("do_not_email", "eq.false")
    return params


def add_segment_members(
    records: Any,
    conn: Any,
    actor: Any,
    campaign: Mapping[str, Any],
    views: Iterable[Mapping[str, Any]],
    status: str = "targeted",
) -> int:
    """Add every contact of the campaign's segment as a member; returns how many were added."""
    params = segment_params(campaign, list(views))
    existing = set()
    last = 0
    while True:
        page = records.query(
            conn,
            actor,
            "crm.campaign_member",
            {
                "campaign": f"eq.{campaign['id']}",
                "id": f"gt.{last}",
                "order": "id",
                "limit": str(PAGE),
            },
        )
        existing.update(m["contact"] for m in page)
        if len(page) < PAGE:
            break
        last = page[-1]["id"]
    added, last = 0, 0
    while True:
        page = records.query(
            conn,
            actor,
            "crm.contact",
            {**params, "id": f"gt.{last}", "order": "id", "limit": str(PAGE)},
        )
        for contact in page:
            if contact["id"] not in existing:
                records.create(
                    conn,
                    actor,
                    "crm.campaign_member",
                    {"campaign": campaign["id"], "contact": contact["id"], "status": status},
                )
                added += 1
        if len(page) < PAGE:
            return added
        last = page[-1]["id"]
