"""Multi-level approvals: which approvals a transition still needs, and who may give them.

A transition declares approval steps, each with a condition and the roles that may approve::

    "approvals": [
      {"name": "manager",  "role": "sales_manager",  "when": "record.discount > 10.0"},
      {"name": "director", "role": "sales_director", "when": "record.discount > 25.0"}
    ]

A discount of 12% needs the manager, 30% needs the manager and the director; the transition is
available only when every step whose condition holds has a valid approval. An approval is valid
when it was given by a user with one of the step's roles, who is not the record's owner (that is
the point of approving), who gave no other approval of the same transition (two levels are two
people), and the fields it covers (those its condition reads, plus ``covers``) still have the
values they had when it was given. Storage keeps approvals per record and discards them when the
record changes state; these functions are pure and only read what they are given.

A condition that cannot be evaluated because a field it reads is empty (no discount given) does
not require its step; any other evaluation failure does (fail closed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .actions import json_value
from .compiler import CompiledApproval, CompiledTransition, CompiledWorkflow
from .errors import ApprovalRefused, UnknownTransition
from .expressions import Activation, ExpressionError
from .expressions.values import cel_value
from .model import ApprovalStep


@dataclass(frozen=True)
class Approval:
    """An approval as stored: who approved which step of which transition, and the values of
    the covered fields at that moment."""

    transition: str
    step: str
    user_id: int
    snapshot: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "transition": self.transition,
            "step": self.step,
            "user_id": self.user_id,
            "snapshot": dict(self.snapshot),
            "at": self.at.isoformat() if self.at else None,
        }


def snapshot(
    wf: CompiledWorkflow, approval: CompiledApproval, record: Mapping[str, Any]
) -> dict[str, Any]:
    """The covered fields' values, in a comparable JSON form (``"1500.00"`` equals ``1500``)."""
    out = {}
    for name in approval.covers:
        f = wf.entity.field(name)
        out[name] = json_value(cel_value(f.type if f else "json", record.get(name)))
    return out


def _needed(approval: CompiledApproval, activation: Activation) -> bool:
    if approval.when is None:
        return True
    try:
        return approval.when.evaluate(activation) is True
    except ExpressionError:
        # Empty inputs (no discount given) need no approval, as in a SQL CHECK; the condition
        # is evaluated again on the values the transition fires with. Any other failure
        # demands the approval: fail closed.
        record = activation.variables.get("record") or {}
        return not any(record.get(f) is None for f in approval.when.fields)


def required_steps(
    wf: CompiledWorkflow, transition: CompiledTransition, activation: Activation
) -> tuple[CompiledApproval, ...]:
    """The steps of ``transition`` whose condition holds for the record in ``activation``."""
    return tuple(a for a in transition.approvals if _needed(a, activation))


def missing_approvals(
    wf: CompiledWorkflow,
    transition: str | CompiledTransition,
    record: Mapping[str, Any],
    approvals: Iterable[Approval],
    owner_id: int | None,
    *,
    now: dt.datetime | None = None,
    activation: Activation | None = None,
) -> tuple[ApprovalStep, ...]:
    """The approval steps ``transition`` still needs for ``record``, in declaration order."""
    t = _transition(wf, transition)
    activation = activation or Activation.for_record(wf.entity, record, now=now)
    given = [a for a in approvals if a.transition == t.name]
    used: set[int] = set()
    missing = []
    for step in required_steps(wf, t, activation):
        current = snapshot(wf, step, record)
        match = next(
            (
                a
                for a in given
                if a.step == step.step.name
                and a.user_id not in used
                and a.user_id != owner_id
                and dict(a.snapshot) == current
            ),
            None,
        )
        if match is None:
            missing.append(step.step)
        else:
            used.add(match.user_id)
    return tuple(missing)


def approve(
    wf: CompiledWorkflow,
    transition: str,
    step: str,
    record: Mapping[str, Any],
    actor: Any,
    owner_id: int | None,
    approvals: Iterable[Approval] = (),
    *,
    now: dt.datetime | None = None,
) -> Approval:
    """Check that ``actor`` may give approval ``step`` of ``transition`` now, and return the
    :class:`Approval` to store; raise :class:`ApprovalRefused` (403, or 409 when the step is
    not needed or the record is not in a state the transition leaves)."""
    state = record.get(wf.state_field)
    t = wf.transition(transition, state)
    if t is None:
        _transition(wf, transition)  # 404 when no transition has that name at all
        raise ApprovalRefused(
            f"{wf.entity.name}: transition {transition!r} does not leave state {state!r}", 409
        )
    compiled = next((a for a in t.approvals if a.step.name == step), None)
    if compiled is None:
        raise ApprovalRefused(f"transition {transition!r} has no approval step {step!r}", 409)
    now = now or dt.datetime.now(dt.UTC)
    activation = Activation.for_record(wf.entity, record, now=now)
    if not _needed(compiled, activation):
        raise ApprovalRefused(f"approval {step!r} is not needed for this {wf.entity.label}", 409)
    roles = set(getattr(actor, "roles", ()) or ())
    if not roles & set(compiled.step.roles):
        raise ApprovalRefused(
            f"approval {step!r} needs one of the roles {', '.join(compiled.step.roles)}"
        )
    if actor.user_id is None or actor.user_id == owner_id:
        raise ApprovalRefused(f"approval {step!r} cannot be given by the record's owner")
    current = [a for a in approvals if a.transition == t.name and a.user_id == actor.user_id]
    if any(a.step != step for a in current):
        raise ApprovalRefused(
            f"you already approved another step of {transition!r}; each step needs another person"
        )
    return Approval(
        t.name, step, actor.user_id, MappingProxyType(snapshot(wf, compiled, record)), now
    )


def _transition(wf: CompiledWorkflow, transition: str | CompiledTransition) -> CompiledTransition:
    if isinstance(transition, CompiledTransition):
        return transition
    t = wf.transition(transition)
    if t is None:
        raise UnknownTransition(wf.name, transition)
    return t
