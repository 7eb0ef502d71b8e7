"""Demo data: every active plugin's ``xrm_demo_data`` hook, in dependency order.

Each plugin's demo data is loaded in a transaction of its own (a plugin whose loader fails
leaves nothing behind, and the plugins before it keep theirs), with a ``random.Random(seed)``
of its own, so the data of one plugin is the same whichever other plugins are loaded. A plugin's
row in ``xrm_plugin`` records when its demo data was loaded; loading it again is refused unless
forced.
"""

from __future__ import annotations

import random as _random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...metadata import store
from ..context import SYSTEM, Actor
from ..security import directory
from ..tables import installed_plugin
from .errors import PluginNotFound, PluginStateConflict


@dataclass(frozen=True)
class DemoContext:
    """What ``xrm_demo_data(context)`` receives.

    Records are written through ``records`` on ``conn`` as ``actor``; every random choice comes
    from ``random`` (seeded). Users, roles and teams the demo needs (colleagues who own the
    records) are made with :meth:`ensure_user`, :meth:`ensure_role` and :meth:`ensure_team`, on
    the same connection: one transaction per plugin, all or nothing.
    """

    app: Any
    platform: Any
    conn: sa.Connection
    records: Any
    actor: Actor
    random: _random.Random

    def fire(
        self,
        entity: str,
        record_id: int,
        transition: str,
        *,
        comment: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Take workflow ``transition`` on a record in the demo's transaction; returns the
        stored record.

        The demo plays a history that many colleagues made, so the transition is taken by the
        system: the checks that concern *who* fires (roles, owner only, four eyes) do not
        apply, while guards, required fields, actions, hooks and automations do. (As the
        loading user, ``xrm init --demo`` would need the administrator to hold every
        business role of every plugin.)"""
        return self.platform.workflows.fire(
            self.conn,
            SYSTEM,
            entity,
            record_id,
            transition,
            comment=comment,
            values=values or None,
        )

    def contributions(self, hook: str) -> list[Any]:
        """What the loaded plugins contribute through a list-returning hook (``"xrm_views"``,
        ``"xrm_dashboards"``...), in dependency order."""
        from .manager import plugin_contributions

        return [item for _name, item in plugin_contributions(self.platform.plugins, hook)]

    def ensure_user(
        self,
        username: str,
        first_name: str,
        last_name: str,
        *,
        email: str | None = None,
        roles: Iterable[str] = (),
    ) -> int:
        """The id of user ``username``, created when missing (active, e-mail
        ``<username>@demo.example`` unless given, a random password nobody knows: an
        administrator sets one to log in as them), with ``roles`` added. A role that does not
        exist (its plugin's roles were not installed) is left out."""
        return directory.ensure_user(
            self.conn, username, first_name, last_name, email=email, roles=roles
        )

    def ensure_role(self, name: str) -> int:
        """The id of role ``name``, created (without permissions) when missing."""
        return directory.ensure_role(self.conn, name)

    def ensure_team(self, name: str, user_ids: Iterable[int] = ()) -> int:
        """The id of team ``name`` (the group the ``team`` record scope reads), created when
        missing, with ``user_ids`` among its members."""
        return directory.ensure_team(self.conn, name, user_ids)


def _loaders(pm, name: str) -> list:
    plugin = pm.get_plugin(name)
    return [i for i in pm.hook.xrm_demo_data.get_hookimpls() if i.plugin is plugin]


def plan_demo(platform: Any, names: list[str] | None = None, *, force: bool = False) -> list[str]:
    """The plugins whose demo data would load, in dependency order. Refuses (naming them)
    when some already have demo data, unless ``force``."""
    active = platform.plugin_states.active()
    if names:
        unknown = [n for n in names if n not in active]
        if unknown:
            raise PluginNotFound(
                f"no installed and enabled plugin named {', '.join(map(repr, unknown))} "
                f"(active: {', '.join(active) or 'none'})"
            )
    selected = [n for n in active if (not names or n in names) and _loaders(platform.plugins, n)]
    installed = platform.plugin_states.installed()
    loaded = [n for n in selected if installed[n].demo_loaded_at is not None]
    if loaded and not force:
        raise PluginStateConflict(
            f"the database already has demo data of {', '.join(map(repr, loaded))}; "
            "loading it twice would duplicate it (force to load it anyway)",
            details={"loaded": loaded},
        )
    return selected


def load_demo(
    app: Any,
    platform: Any,
    actor: Actor,
    *,
    seed: int = 0,
    names: list[str] | None = None,
    force: bool = False,
    progress=None,
) -> list[str]:
    """Load the demo data; returns the plugins loaded, in order."""
    done = []
    for name in plan_demo(platform, names, force=force):
        with platform.engine.begin() as conn:
            context = DemoContext(
                app, platform, conn, platform.records, actor, _random.Random(seed)
            )
            for impl in _loaders(platform.plugins, name):
                impl.function(context)
            conn.execute(
                installed_plugin.update()
                .where(installed_plugin.c.name == name)
                .values(demo_loaded_at=store.utcnow())
            )
        platform.plugin_states.forget()
        done.append(name)
        if progress:
            progress(name)
    return done
