"""Compile a workflow definition: every expression compiled and type-checked once.

A :class:`CompiledWorkflow` is immutable; the caller keeps one per definition version (the
metadata snapshot does, through a :class:`CompiledCache` it owns), so expressions are compiled
once per version and never per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from xrm.metadata.model import EntityDefinition

from .actions import ActionCompiler, CompiledAction
from .errors import Finding
from .expressions import Expression
from .expressions.types import BOOL
from .model import ApprovalStep, TimerSpec, TransitionSpec, WorkflowDefinition


@dataclass(frozen=True)
class CompiledApproval:
    step: ApprovalStep
    when: Expression | None
    #: Fields whose change voids a given approval: those its condition reads, and ``covers``.
    covers: tuple[str, ...]


@dataclass(frozen=True)
class CompiledTransition:
    spec: TransitionSpec
    guard: Expression | None
    approvals: tuple[CompiledApproval, ...]
    actions: tuple[CompiledAction, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def sets_fields(self) -> frozenset[str]:
        return frozenset(f for a in self.actions for f in a.sets_fields)


@dataclass(frozen=True)
class CompiledTimer:
    spec: TimerSpec
    state: str
    when: Expression | None
    actions: tuple[CompiledAction, ...]


@dataclass(frozen=True)
class CompiledWorkflow:
    definition: WorkflowDefinition
    entity: EntityDefinition
    transitions: tuple[CompiledTransition, ...]
    timers: tuple[CompiledTimer, ...]

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def state_field(self) -> str:
        return self.definition.state_field

    @property
    def version(self) -> str:
        """Fingerprint of the definition and of the entity it was checked against."""
        return f"{self.definition.fingerprint}:{self.entity.fingerprint}"

    def transition(self, name: str, state: str | None = None) -> CompiledTransition | None:
        """The transition called ``name`` (leaving ``state``, when given)."""
        named = [t for t in self.transitions if t.name == name]
        if state is not None:
            named = [t for t in named if t.spec.leaves(state)]
        return named[0] if named else None

    def timers_of(self, state: str) -> tuple[CompiledTimer, ...]:
        return tuple(t for t in self.timers if t.state == state)


def compile_parts(
    defn: WorkflowDefinition,
    entity: EntityDefinition,
    entities: Mapping[str, EntityDefinition] | None = None,
) -> tuple[CompiledWorkflow, list[Finding]]:
    """Compile every expression of ``defn``; the findings say which did not compile (those are
    left out of the result, which is only usable when there are no findings)."""
    findings: list[Finding] = []
    ac = ActionCompiler(entity, entities, findings, protected=frozenset({defn.state_field}))
    transitions = []
    for t in defn.transitions:
        guard = None
        if t.guard is not None:
            guard = ac.expression(
                t.guard, f"{t.pointer}/guard", f"guard of transition {t.name!r}", BOOL
            )
        approvals = []
        for step in t.approvals:
            when = None
            if step.when is not None:
                when = ac.expression(
                    step.when, f"{step.pointer}/when", f"condition of approval {step.name!r}", BOOL
                )
            covers = tuple(dict.fromkeys((*sorted(when.fields if when else ()), *step.covers)))
            approvals.append(CompiledApproval(step, when, covers))
        actions = tuple(ac.compile(a) for a in t.actions)
        transitions.append(CompiledTransition(t, guard, tuple(approvals), actions))
    timers = []
    for state in defn.states:
        for timer in state.timers:
            when = None
            if timer.when is not None:
                when = ac.expression(
                    timer.when, f"{timer.pointer}/when", f"condition of timer {timer.name!r}", BOOL
                )
            timers.append(
                CompiledTimer(timer, state.name, when, tuple(ac.compile(a) for a in timer.actions))
            )
    return CompiledWorkflow(defn, entity, tuple(transitions), tuple(timers)), findings


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CompiledCache:
    """A small, thread-safe LRU of compiled definitions, keyed by version.

    Owned and passed by the caller (a registry snapshot, a test), never module-level, so no
    state outlives the object that decides what a version is."""

    def __init__(self, maxsize: int = 256):
        self.maxsize = maxsize
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.compilations = 0

    def get(self, key: K, build: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()  # outside the lock: compiling may take a while and is pure
        with self._lock:
            self.compilations += 1
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
