"""What a UI page runs under: the logged-in actor, their access and the current snapshot.

Pages are shells: the server checks that the entity exists in the current snapshot and that the
user may read it (so a direct URL answers 403 or 404), renders the page's configuration, and the
browser fetches the data through the REST API, which applies scopes and field security again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from ...core.context import Actor
from ...core.security.access import Access
from ...metadata.compiler import CompiledEntity, MetadataSnapshot
from ..auth import current_actor


class LoginRequired(Exception):
    """Raised when nobody is logged in; answered by a redirect to the login page."""


@dataclass(frozen=True)
class PageContext:
    actor: Actor
    access: Access
    snapshot: MetadataSnapshot

    @property
    def platform(self) -> Any:
        return current_app.extensions["xrm"]

    def entity(self, name: str, action: str = "read") -> CompiledEntity:
        """The entity, or 404 when the snapshot has none by that name, 403 when the user may
        not perform ``action`` on it."""
        if name not in self.snapshot:
            abort(404, description=f"There is no entity {name!r}.")
        if not self.access.can(name, action):
            abort(403, description=f"You may not {action} {name} records.")
        return self.snapshot.entity(name)

    def readable(self) -> list[CompiledEntity]:
        return [ce for n, ce in self.snapshot.entities.items() if self.access.can(n, "read")]


def page_context() -> PageContext:
    if not (current_user and current_user.is_authenticated):
        raise LoginRequired()
    p = current_app.extensions["xrm"]
    with p.engine.connect() as conn:
        actor = current_actor(conn)  # the same connection: it also reads the metadata version
        access = p.records.access(conn, actor)
        snap = p.registry.snapshot(conn)
    return PageContext(actor, access, snap)


def login_redirect():
    return redirect(
        url_for(current_app.appbuilder.sm.auth_view.endpoint + ".login", next=request.full_path)
    )
