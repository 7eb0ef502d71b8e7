"""Moving records between workflow versions: states removed by a new version need a mapping.

:func:`diff_states` compares two versions; :func:`state_mapping` returns the complete mapping
from every removed state to a state of the new version (renames declared with ``renamedFrom``
map themselves), or raises :class:`~xrm.workflow.errors.StateMappingRequired` listing what is
missing. ``counts`` (records per state) comes from the database; a removed state without
records needs no mapping. Pure functions: the UPDATE that moves the records is storage's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import Finding, StateMappingRequired, error
from .model import WorkflowDefinition


@dataclass(frozen=True)
class StateDiff:
    removed: tuple[str, ...]
    added: tuple[str, ...]
    #: Old name -> new name, from ``renamedFrom`` in the new version.
    renamed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def unmapped(self) -> tuple[str, ...]:
        """Removed states that no rename covers: records there need a mapping."""
        return tuple(s for s in self.removed if s not in self.renamed)


def diff_states(old: WorkflowDefinition, new: WorkflowDefinition) -> StateDiff:
    old_names, new_names = set(old.state_names), set(new.state_names)
    renamed = {
        prev: s.name
        for s in new.states
        for prev in s.renamed_from
        if prev in old_names and prev not in new_names
    }
    return StateDiff(
        removed=tuple(s for s in old.state_names if s not in new_names),
        added=tuple(s for s in new.state_names if s not in old_names and s not in renamed.values()),
        renamed=MappingProxyType(renamed),
    )


def mapping_findings(
    old: WorkflowDefinition,
    new: WorkflowDefinition,
    mapping: Mapping[str, str] | None = None,
    counts: Mapping[str, int] | None = None,
) -> list[Finding]:
    """What is wrong with ``mapping`` (old state -> new state) for moving to ``new``."""
    out: list[Finding] = []
    if old.entity != new.entity or old.state_field != new.state_field:
        out.append(
            error(
                "/stateField",
                f"the new version binds {new.entity}.{new.state_field}, the old one "
                f"{old.entity}.{old.state_field}; that is a different workflow",
            )
        )
    diff = diff_states(old, new)
    mapping = dict(mapping or {})
    for state, target in mapping.items():
        if state not in diff.removed:
            out.append(
                error(f"/mapping/{state}", f"state {state!r} is not removed by the new version")
            )
        elif new.state(target) is None:
            out.append(error(f"/mapping/{state}", f"{target!r} is not a state of the new version"))
    for state in diff.unmapped:
        if state in mapping or (counts is not None and not counts.get(state)):
            continue
        n = f"{counts[state]} record(s) are" if counts is not None else "records may be"
        out.append(
            error(
                f"/mapping/{state}",
                f"state {state!r} is removed and {n} in it: map it to one of "
                f"{', '.join(new.state_names)}",
            )
        )
    return out


def state_mapping(
    old: WorkflowDefinition,
    new: WorkflowDefinition,
    mapping: Mapping[str, str] | None = None,
    counts: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """The complete old -> new mapping to apply (renames included), or raise
    :class:`StateMappingRequired` when a removed state with records has no valid target."""
    findings = mapping_findings(old, new, mapping, counts)
    if findings:
        raise StateMappingRequired(new.name, findings)
    diff = diff_states(old, new)
    out = dict(diff.renamed)
    out.update({k: v for k, v in (mapping or {}).items() if k in diff.removed})
    return out
