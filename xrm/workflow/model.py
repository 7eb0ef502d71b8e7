"""The normalized, immutable model of a workflow definition.

A workflow *document* is JSON (its meta-schema is ``schemas/workflow.schema.json``). Once it has
passed the meta-schema, :func:`parse_workflow` turns it into a :class:`WorkflowDefinition`: plain
frozen data that the compiler, the verifier and the engine read. Each part remembers its JSON
pointer, so every later finding can point back into the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from xrm.metadata.model import fingerprint, freeze
from xrm.metadata.validation import pointer

#: ``"from": "*"``: every state that is not final.
ANY_STATE = "*"


@dataclass(frozen=True)
class ActionSpec:
    """One action: its ``type`` (a built-in such as ``setFields`` or a plugin's namespaced
    action name), an optional ``when`` condition and its parameters as written."""

    type: str
    params: Mapping[str, Any]
    pointer: str
    when: str | None = None


@dataclass(frozen=True)
class TimerSpec:
    """Fires when a record has stayed in a state for ``after`` (an ISO 8601 duration), or when
    the date in field ``at`` (shifted by ``offset``) is reached."""

    name: str
    pointer: str
    after: str | None = None
    at: str | None = None
    offset: str | None = None
    when: str | None = None
    transition: str | None = None
    actions: tuple[ActionSpec, ...] = ()


@dataclass(frozen=True)
class StateSpec:
    name: str
    label: str
    pointer: str
    initial: bool = False
    final: bool = False
    colour: str | None = None
    #: Fields that must be filled while a record is in this state (checked on entering it).
    required: tuple[str, ...] = ()
    #: Fields that cannot be changed while a record is in this state.
    read_only: tuple[str, ...] = ()
    timers: tuple[TimerSpec, ...] = ()
    renamed_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApprovalStep:
    """One approval a transition needs when ``when`` holds: given by a user with one of
    ``roles``. The approval covers the fields its condition reads plus ``covers``; changing
    them afterwards voids it."""

    name: str
    label: str
    roles: tuple[str, ...]
    pointer: str
    when: str | None = None
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransitionSpec:
    name: str
    label: str
    sources: tuple[str, ...]
    to: str
    pointer: str
    roles: tuple[str, ...] = ()
    guard: str | None = None
    guard_message: str | None = None
    #: Fields the user may fill in the transition dialog (``requiredFields`` are among them).
    fields: tuple[str, ...] = ()
    required_fields: tuple[str, ...] = ()
    require_comment: bool = False
    #: Four-eyes: the record's owner may not take this transition.
    not_by_owner: bool = False
    owner_only: bool = False
    approvals: tuple[ApprovalStep, ...] = ()
    actions: tuple[ActionSpec, ...] = ()

    def leaves(self, state: str) -> bool:
        return state in self.sources


@dataclass(frozen=True)
class WorkflowDefinition:
    """A state machine bound to one entity and one of its fields."""

    name: str
    label: str
    entity: str
    state_field: str
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    description: str = ""
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def state(self, name: str) -> StateSpec | None:
        return next((s for s in self.states if s.name == name), None)

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def initial_state(self) -> StateSpec | None:
        return next((s for s in self.states if s.initial), None)

    @property
    def final_states(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if s.final)

    def transitions_from(self, state: str) -> tuple[TransitionSpec, ...]:
        return tuple(t for t in self.transitions if t.leaves(state))

    def transition(self, name: str, state: str | None = None) -> TransitionSpec | None:
        """The transition called ``name`` (leaving ``state``, when given)."""
        named = [t for t in self.transitions if t.name == name]
        if state is not None:
            leaving = [t for t in named if t.leaves(state)]
            return leaving[0] if leaving else None
        return named[0] if named else None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.document)


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def parse_action(doc: Mapping[str, Any], ptr: str) -> ActionSpec:
    params = {k: v for k, v in doc.items() if k not in ("type", "when")}
    return ActionSpec(type=doc["type"], params=freeze(params), pointer=ptr, when=doc.get("when"))


def parse_actions(docs: Any, *base: Any) -> tuple[ActionSpec, ...]:
    return tuple(parse_action(a, pointer(*base, i)) for i, a in enumerate(docs or ()))


def _timer(doc: Mapping[str, Any], *base: Any) -> TimerSpec:
    return TimerSpec(
        name=doc["name"],
        pointer=pointer(*base),
        after=doc.get("after"),
        at=doc.get("at"),
        offset=doc.get("offset"),
        when=doc.get("when"),
        transition=doc.get("transition"),
        actions=parse_actions(doc.get("actions"), *base, "actions"),
    )


def _state(name: str, doc: Mapping[str, Any]) -> StateSpec:
    base = ("states", name)
    return StateSpec(
        name=name,
        label=doc.get("label") or name.replace("_", " ").capitalize(),
        pointer=pointer(*base),
        initial=bool(doc.get("initial", False)),
        final=bool(doc.get("final", False)),
        colour=doc.get("colour"),
        required=tuple(doc.get("required", ())),
        read_only=tuple(doc.get("readOnly", ())),
        timers=tuple(_timer(t, *base, "timers", i) for i, t in enumerate(doc.get("timers", ()))),
        renamed_from=_names(doc.get("renamedFrom")),
    )


def _approval(doc: Mapping[str, Any], *base: Any) -> ApprovalStep:
    return ApprovalStep(
        name=doc["name"],
        label=doc.get("label") or doc["name"].replace("_", " ").capitalize(),
        roles=_names(doc.get("roles", doc.get("role"))),
        pointer=pointer(*base),
        when=doc.get("when"),
        covers=tuple(doc.get("covers", ())),
    )


def _transition(i: int, doc: Mapping[str, Any], states: tuple[StateSpec, ...]) -> TransitionSpec:
    base = ("transitions", i)
    sources = _names(doc["from"])
    if ANY_STATE in sources:
        sources = tuple(s.name for s in states if not s.final)
    required = tuple(doc.get("requiredFields", ()))
    fields = tuple(dict.fromkeys((*doc.get("fields", ()), *required)))
    return TransitionSpec(
        name=doc["name"],
        label=doc.get("label") or doc["name"].replace("_", " ").capitalize(),
        sources=sources,
        to=doc["to"],
        pointer=pointer(*base),
        roles=tuple(doc.get("roles", ())),
        guard=doc.get("guard"),
        guard_message=doc.get("guardMessage"),
        fields=fields,
        required_fields=required,
        require_comment=bool(doc.get("requireComment", False)),
        not_by_owner=bool(doc.get("notByOwner", False)),
        owner_only=bool(doc.get("ownerOnly", False)),
        approvals=tuple(
            _approval(a, *base, "approvals", j) for j, a in enumerate(doc.get("approvals", ()))
        ),
        actions=parse_actions(doc.get("actions"), *base, "actions"),
    )


def parse_workflow(doc: Mapping[str, Any]) -> WorkflowDefinition:
    """Build the model from a document that already passed the meta-schema."""
    states = tuple(_state(n, s) for n, s in doc["states"].items())
    return WorkflowDefinition(
        name=doc["name"],
        label=doc.get("label") or doc["name"].split(".", 1)[-1].replace("_", " ").capitalize(),
        entity=doc["entity"],
        state_field=doc["stateField"],
        states=states,
        transitions=tuple(_transition(i, t, states) for i, t in enumerate(doc["transitions"])),
        description=doc.get("description", ""),
        document=freeze(dict(doc)),
    )
