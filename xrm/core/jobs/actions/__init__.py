"""The built-in action handlers: webhook, e-mail, in-app notification, plugin action types."""

from __future__ import annotations

from ..registry import JobRegistry
from .email import email
from .notify import notify
from .plugin import plugin_action
from .webhook import webhook


def register_actions(jobs: JobRegistry) -> None:
    jobs.handler("action.webhook")(webhook)
    jobs.handler("action.email")(email)
    jobs.handler("action.notify")(notify)
    # Exact topics win, so this catches only the plugins' action types.
    jobs.handler("action.*")(plugin_action)


__all__ = ["register_actions"]
