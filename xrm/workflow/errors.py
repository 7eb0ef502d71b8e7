"""Typed errors and findings of the workflow engine.

Every error carries the HTTP status the web layer maps it to. A refused transition carries the
reasons as data (:class:`Reason`), so the API can list them and the UI can explain them.
"""

from __future__ import annotations

from dataclasses import dataclass

from xrm.metadata.errors import DefinitionInvalid

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    """One thing found in a definition: an ``error`` blocks saving or activation, a
    ``warning`` is shown. ``pointer`` is a JSON pointer into the definition document."""

    severity: str
    pointer: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "pointer": self.pointer, "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity}: {self.pointer or '/'}: {self.message}"


def error(pointer: str, message: str) -> Finding:
    return Finding(ERROR, pointer, message)


def warning(pointer: str, message: str) -> Finding:
    return Finding(WARNING, pointer, message)


@dataclass(frozen=True)
class FieldProblem:
    """A record value the workflow or a rule refuses: which field (None: the whole record),
    why, and the rule or state that says so. Shaped like the record service's problems."""

    field: str | None
    message: str
    rule: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"field": self.field, "message": self.message}
        if self.rule:
            out["rule"] = self.rule
        return out


class WorkflowInvalid(DefinitionInvalid):
    """A workflow or rule set definition has errors; ``problems`` lists every one of them."""

    status = 422
    title = "Invalid workflow definition"


class WorkflowError(Exception):
    """Base class: a workflow operation that cannot be carried out."""

    status = 400
    title = "Workflow error"


@dataclass(frozen=True)
class Reason:
    """Why a transition cannot be taken now. ``code`` is stable (for clients), ``message`` is
    for people, ``fields`` names the fields concerned, ``status`` is the HTTP status."""

    code: str
    message: str
    status: int
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.fields:
            out["fields"] = list(self.fields)
        return out


#: Reason codes with their HTTP status. The status of a refusal is that of its first reason in
#: this order: a wrong state hides everything else, a forbidden actor learns nothing more.
REASON_STATUS = {
    "wrong_state": 409,
    "role": 403,
    "owner_only": 403,
    "four_eyes": 403,
    "approvals_pending": 409,
    "guard": 422,
    "missing_fields": 422,
    "comment_required": 422,
    "unexpected_input": 422,
    "action_failed": 422,
}


class TransitionRefused(WorkflowError):
    """A transition cannot be fired. ``reasons`` says every reason; ``status`` follows the
    most significant one (409 wrong state or pending approvals, 403 role or ownership,
    422 guard, fields or comment)."""

    title = "Transition refused"

    def __init__(self, entity: str, transition: str, reasons: tuple[Reason, ...]):
        self.entity = entity
        self.transition = transition
        self.reasons = tuple(reasons)
        order = list(REASON_STATUS)
        first = min(self.reasons, key=lambda r: order.index(r.code) if r.code in order else 99)
        self.status = first.status
        detail = "; ".join(r.message for r in self.reasons)
        super().__init__(f"{entity}: transition {transition!r} refused: {detail}")


class UnknownTransition(WorkflowError):
    status = 404
    title = "Unknown transition"

    def __init__(self, workflow: str, transition: str):
        self.transition = transition
        super().__init__(f"workflow {workflow!r} has no transition {transition!r}")


class ApprovalRefused(WorkflowError):
    """An approval that cannot be recorded: the approver lacks the role, owns the record or
    already approved another step (403), or the step is not needed (409)."""

    title = "Approval refused"

    def __init__(self, message: str, status: int = 403):
        self.status = status
        super().__init__(message)


class StateMappingRequired(WorkflowError):
    """A new workflow version removes states that records are in, and no (valid) mapping
    to new states was given. ``missing`` lists the states without a mapping."""

    status = 409
    title = "State mapping required"

    def __init__(self, workflow: str, findings: list[Finding]):
        self.findings = list(findings)
        detail = "; ".join(f.message for f in self.findings)
        super().__init__(f"workflow {workflow!r}: {detail}")
