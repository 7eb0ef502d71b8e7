"""Typed errors of the metadata engine.

Every error names what is wrong (entity, field, value) and carries the HTTP status the web layer
maps it to, so no layer above has to guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DefinitionProblem:
    """One problem found in a definition document: where (a JSON pointer) and what."""

    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message}

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class MetadataError(Exception):
    """Base class: a metadata operation that cannot be carried out."""

    status = 400
    title = "Metadata error"


class DefinitionInvalid(MetadataError):
    """A definition failed validation; ``problems`` lists every problem, not just the first."""

    status = 422
    title = "Invalid definition"

    def __init__(self, subject: str, problems: list[DefinitionProblem]):
        self.subject = subject
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{subject} is invalid ({len(self.problems)} problem(s)):\n{lines}")


class UnknownEntity(MetadataError):
    status = 404
    title = "Unknown entity"

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"entity {name!r} does not exist")


class PlanRefused(MetadataError):
    """Applying a plan would lose or corrupt data, or needs a confirmation that was not given."""

    status = 409
    title = "Migration refused"

    def __init__(self, message: str, report: list[dict] | None = None):
        self.report = report or []
        super().__init__(message)


class UnknownOptionSet(MetadataError):
    status = 404
    title = "Unknown option set"

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"there is no option set {name!r}")


class OptionSetInUse(MetadataError):
    """An option set cannot be deleted while fields use it."""

    status = 409
    title = "Option set in use"

    def __init__(self, name: str, used_by: list[str]):
        self.name = name
        self.used_by = list(used_by)
        entities = sorted({u.rsplit(".", 1)[0] for u in self.used_by})
        super().__init__(
            f"option set {name!r} is used by {len(self.used_by)} field(s) of "
            f"{', '.join(entities)}: {', '.join(self.used_by)}; point those fields at another "
            "set or give them their own options first"
        )


class StalePlan(MetadataError):
    """The definitions changed between planning and applying."""

    status = 409
    title = "Stale plan"


@dataclass
class ValueProblem:
    """One field value that failed validation or conversion."""

    field: str
    message: str
    value: object = None
    extra: dict = field(default_factory=dict)
