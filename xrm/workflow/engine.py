"""The transition evaluator: which transitions a user may take now, and taking one.

Everything here is pure: the caller passes the compiled workflow, the record (a dict of field
values including the state field, as the record service returns it), the actor, the owner's id,
the user's input and the approvals recorded so far. Nothing is read or written; :func:`fire`
returns the values to write and the effects to queue, and the record service stores them in one
transaction.

The platform itself (timers, automations) acts with ``user_id=None`` (:data:`SYSTEM`): role and
ownership checks do not apply to it; guards, required fields and approvals do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .actions import Effect, run_actions
from .approvals import Approval, missing_approvals
from .compiler import CompiledTransition, CompiledWorkflow
from .errors import REASON_STATUS, FieldProblem, Reason, TransitionRefused, UnknownTransition
from .expressions import Activation, ExpressionError
from .expressions.values import ResultError, cel_value

#: Reasons the user can resolve by giving input in the transition dialog.
INPUT_REASONS = frozenset({"missing_fields", "comment_required"})


@dataclass(frozen=True)
class Actor:
    """Who takes a transition. ``xrm.core``'s actor has the same two attributes and fits."""

    user_id: int | None
    roles: frozenset[str] | tuple[str, ...] = frozenset()


SYSTEM = Actor(None)


@dataclass(frozen=True)
class TransitionInput:
    """What the user gives when taking a transition: a comment and field values."""

    comment: str | None = None
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class TransitionOption:
    """One transition as the UI offers it: available, or not and why."""

    name: str
    label: str
    to: str
    reasons: tuple[Reason, ...]
    fields: tuple[str, ...]
    required_fields: tuple[str, ...]
    require_comment: bool

    @property
    def available(self) -> bool:
        return not self.reasons

    @property
    def needs_input_only(self) -> bool:
        """Blocked only by input the user can give in the dialog (fields, a comment)."""
        return bool(self.reasons) and all(r.code in INPUT_REASONS for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "to": self.to,
            "available": self.available,
            "reasons": [r.as_dict() for r in self.reasons],
            "fields": list(self.fields),
            "requiredFields": list(self.required_fields),
            "requireComment": self.require_comment,
        }


@dataclass(frozen=True)
class Firing:
    """The outcome of a transition: field values to write (input, ``setFields`` results and
    the new state) and effects to queue after the write."""

    transition: str
    from_state: str
    to_state: str
    values: Mapping[str, Any]
    effects: tuple[Effect, ...] = ()
    comment: str | None = None


def _reason(code: str, message: str, fields: Iterable[str] = ()) -> Reason:
    return Reason(code, message, REASON_STATUS[code], tuple(fields))


def _same(wf: CompiledWorkflow, name: str, a: Any, b: Any) -> bool:
    """Equal as values of the field (``"1500.00"`` and ``Decimal(1500)`` are the same)."""
    f = wf.entity.field(name)
    ftype = f.type if f else "json"
    return cel_value(ftype, a) == cel_value(ftype, b)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _Evaluation:
    """The checks of one transition for one record, actor and input."""

    def __init__(self, wf, t: CompiledTransition, record, actor, owner_id, given, approvals, now):
        self.wf, self.t, self.actor, self.owner_id = wf, t, actor, owner_id
        self.given = given or TransitionInput()
        self.merged = {**record, **self.given.values}
        self.approvals = approvals
        self.activation = Activation.for_record(
            wf.entity,
            self.merged,
            user_id=actor.user_id,
            roles=tuple(actor.roles or ()),
            now=now,
        )

    def reasons(self) -> tuple[Reason, ...]:
        spec, wf = self.t.spec, self.wf
        state = self.merged.get(wf.state_field)
        if not spec.leaves(state):
            froms = ", ".join(spec.sources)
            return (
                _reason("wrong_state", f"the record is {state!r}; {spec.name!r} leaves {froms}"),
            )
        out = self._actor()
        unexpected = sorted(set(self.given.values) - set(spec.fields))
        if unexpected:
            out.append(
                _reason(
                    "unexpected_input",
                    f"{spec.name!r} does not take {', '.join(unexpected)}",
                    unexpected,
                )
            )
        missing = self.missing_fields()
        if missing:
            out.append(_reason("missing_fields", f"fill in {', '.join(missing)}", missing))
        if spec.require_comment and not (self.given.comment or "").strip():
            out.append(_reason("comment_required", "a comment is required"))
        pending = missing_approvals(
            wf, self.t, self.merged, self.approvals, self.owner_id, activation=self.activation
        )
        if pending:
            labels = ", ".join(s.label for s in pending)
            out.append(_reason("approvals_pending", f"waiting for approval: {labels}", ()))
        out += self._guard(bool(missing))
        return tuple(out)

    def _actor(self) -> list[Reason]:
        spec, user = self.t.spec, self.actor.user_id
        if user is None:
            return []
        out = []
        if spec.roles and not set(self.actor.roles or ()) & set(spec.roles):
            out.append(
                _reason("role", f"{spec.label!r} needs one of the roles {', '.join(spec.roles)}")
            )
        if spec.owner_only and user != self.owner_id:
            out.append(_reason("owner_only", f"only the record's owner may {spec.label.lower()}"))
        if spec.not_by_owner and user == self.owner_id:
            out.append(
                _reason(
                    "four_eyes",
                    f"the record's owner may not {spec.label.lower()}; someone else must",
                )
            )
        return out

    def missing_fields(self) -> list[str]:
        spec = self.t.spec
        target = self.wf.definition.state(spec.to)
        # The target state's required fields, unless an action of the transition sets them.
        needed = [
            *spec.required_fields,
            *(f for f in target.required if f not in self.t.sets_fields),
        ]
        return [f for f in dict.fromkeys(needed) if _empty(self.merged.get(f))]

    def _guard(self, fields_missing: bool) -> list[Reason]:
        guard = self.t.guard
        if guard is None:
            return []
        try:
            ok = guard.evaluate(self.activation) is True
        except ExpressionError as exc:
            if fields_missing:
                return []  # the missing fields already say why; the guard will be checked again
            return [
                _reason(
                    "guard", f"the condition cannot be checked: {exc.message}", sorted(guard.fields)
                )
            ]
        if ok:
            return []
        message = self.t.spec.guard_message or f"the condition {guard.source!r} is not met"
        return [_reason("guard", message, sorted(guard.fields))]


def available_transitions(
    wf: CompiledWorkflow,
    record: Mapping[str, Any],
    actor: Any,
    owner_id: int | None,
    input: TransitionInput | None = None,
    approvals: Iterable[Approval] = (),
    *,
    now: dt.datetime | None = None,
) -> list[TransitionOption]:
    """Every transition of the workflow with the reasons it cannot be taken now (none when it
    can). Those leaving other states carry only ``wrong_state``; the UI usually hides them."""
    approvals = tuple(approvals)
    out = []
    for t in wf.transitions:
        reasons = _Evaluation(wf, t, record, actor, owner_id, input, approvals, now).reasons()
        spec = t.spec
        out.append(
            TransitionOption(
                spec.name,
                spec.label,
                spec.to,
                reasons,
                spec.fields,
                spec.required_fields,
                spec.require_comment,
            )
        )
    return out


def fire(
    wf: CompiledWorkflow,
    name: str,
    record: Mapping[str, Any],
    actor: Any,
    owner_id: int | None,
    input: TransitionInput | None = None,
    approvals: Iterable[Approval] = (),
    *,
    now: dt.datetime | None = None,
) -> Firing:
    """Take transition ``name``: the values to write and the effects to queue, or
    :class:`TransitionRefused` with every reason (or :class:`UnknownTransition`, 404)."""
    state = record.get(wf.state_field)
    t = wf.transition(name, state) or wf.transition(name)
    if t is None:
        raise UnknownTransition(wf.name, name)
    ev = _Evaluation(wf, t, record, actor, owner_id, input, tuple(approvals), now)
    reasons = ev.reasons()
    if reasons:
        raise TransitionRefused(wf.entity.name, name, reasons)
    try:
        set_values, effects = run_actions(t.actions, ev.activation, wf.entity, ev.merged)
    except (ExpressionError, ResultError) as exc:
        raise TransitionRefused(
            wf.entity.name, name, (_reason("action_failed", f"an action failed: {exc}"),)
        ) from None
    values = {**ev.given.values, **set_values, wf.state_field: t.spec.to}
    after = {**ev.merged, **values}
    target = wf.definition.state(t.spec.to)
    missing = [f for f in target.required if _empty(after.get(f))]
    if missing:
        raise TransitionRefused(
            wf.entity.name,
            name,
            (_reason("missing_fields", f"fill in {', '.join(missing)}", missing),),
        )
    return Firing(t.name, state, t.spec.to, MappingProxyType(values), effects, ev.given.comment)


def initial_values(
    wf: CompiledWorkflow, values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """A new record's values with its state set to the initial state, and the problems: a new
    record starts in the initial state, with the fields that state requires."""
    initial = wf.definition.initial_state
    out = dict(values)
    problems = []
    given = out.get(wf.state_field)
    if given not in (None, initial.name):
        problems.append(
            FieldProblem(
                wf.state_field,
                f"a new {wf.entity.label} starts in state {initial.name!r}, not {given!r}",
            )
        )
    out[wf.state_field] = initial.name
    for f in initial.required:
        if _empty(out.get(f)):
            problems.append(FieldProblem(f, f"is required in state {initial.name!r}", initial.name))
    return out, problems


def update_problems(
    wf: CompiledWorkflow, before: Mapping[str, Any], changes: Mapping[str, Any]
) -> list[FieldProblem]:
    """Problems of a plain update (not a transition): the state changes only by transitions,
    read-only fields of the current state keep their values, required ones stay filled."""
    state = before.get(wf.state_field)
    spec = wf.definition.state(state)
    problems = []
    if wf.state_field in changes and changes[wf.state_field] != state:
        names = sorted({t.name for t in wf.transitions if t.spec.leaves(state)})
        hint = f" ({', '.join(names)})" if names else ""
        problems.append(
            FieldProblem(wf.state_field, f"the state changes only by a transition{hint}")
        )
    if spec is None:
        return problems
    for f in spec.read_only:
        if f in changes and not _same(wf, f, changes[f], before.get(f)):
            problems.append(
                FieldProblem(f, f"cannot change while the record is {spec.label!r}", spec.name)
            )
    for f in spec.required:
        if f in changes and _empty(changes[f]):
            problems.append(
                FieldProblem(f, f"is required while the record is {spec.label!r}", spec.name)
            )
    return problems
