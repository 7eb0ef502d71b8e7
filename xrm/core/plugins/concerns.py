"""Record hooks that say which entities they concern.

A record hook (``xrm_before_create`` ... ``xrm_after_transition``: every hook that takes an
``event``) is called for every record of every entity. A hook that only acts on a few entities
says so with :func:`concerns`::

    @hookimpl
    @concerns("crm.account", "crm.contact")
    def xrm_before_update(event):
        ...

The hook is then called for records of those entities only, and the record service knows that
a write to any other entity cannot run plugin code. That is what lets a bulk update or an
import's updates go set-based (:meth:`RecordService.update_many`) with plugins installed: an
update hook that may write other records (a party's copies, a roll-up...) makes the records
read before the batch stale, so an entity that some update hook concerns - or that a hook
without a declaration might concern - is updated record by record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: The hooks that receive a record event (a :class:`RecordEvent` named ``event``).
RECORD_HOOKS = frozenset(
    {
        "xrm_before_create",
        "xrm_after_create",
        "xrm_before_update",
        "xrm_after_update",
        "xrm_before_delete",
        "xrm_after_delete",
        "xrm_before_transition",
        "xrm_after_transition",
    }
)

#: The attribute holding a hook implementation's declared entities.
ENTITIES_ATTRIBUTE = "xrm_entities"


def concerns(*entities: str | Iterable[str]) -> Callable[[F], F]:
    """Declare the entities a record hook acts on (names, or iterables of names); the hook is
    called for records of these entities only. Put it under ``@hookimpl``."""
    names: set[str] = set()
    for item in entities:
        names.update([item] if isinstance(item, str) else item)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise TypeError("concerns() needs the names of the entities the hook acts on")
    declared = frozenset(names)

    def decorate(hook: F) -> F:
        if hook.__name__ not in RECORD_HOOKS:
            raise TypeError(
                f"concerns() applies to record hooks ({', '.join(sorted(RECORD_HOOKS))}), "
                f"not to {hook.__name__}"
            )

        @functools.wraps(hook)
        def concerned(*args: Any, **kwargs: Any) -> Any:
            event = kwargs["event"] if "event" in kwargs else args[-1]
            if event.entity not in declared:
                return None
            return hook(*args, **kwargs)

        setattr(concerned, ENTITIES_ATTRIBUTE, declared)
        return concerned  # type: ignore[return-value]

    return decorate


def hooked(hooks: Any, name: str, entity: str) -> bool:
    """Whether plugin code may run for a record of ``entity`` through hook ``name`` of
    ``hooks`` (a pluggy hook relay, possibly restricted to the active plugins): some
    implementation concerns ``entity``, or does not say which entities it concerns. Unknown
    relays (no ``get_hookimpls``) are taken to run code."""
    if hooks is None:
        return False
    caller = getattr(hooks, name, None)
    if caller is None or getattr(caller, "get_hookimpls", None) is None:
        return True
    for impl in caller.get_hookimpls():
        declared = getattr(impl.function, ENTITIES_ATTRIBUTE, None)
        if declared is None or entity in declared:
            return True
    return False
