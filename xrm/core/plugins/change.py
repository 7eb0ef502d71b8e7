"""What a lifecycle operation will do (its plan) and, once applied, what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...metadata.planner import MigrationPlan, Risk


@dataclass
class PluginChange:
    plugin: str
    action: str  # install | upgrade | enable | disable | uninstall
    from_version: str | None
    to_version: str | None
    definitions: MigrationPlan | None = None
    roles: list[dict[str, Any]] = field(default_factory=list)
    migrations: list[dict[str, str]] = field(default_factory=list)
    workflows: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    #: uninstall: "entity" or "entity.field" -> rows holding data
    data: dict[str, int] = field(default_factory=dict)
    purge: bool = False
    warnings: list[str] = field(default_factory=list)
    applied: bool = False
    archived_tables: list[str] = field(default_factory=list)

    @property
    def risk(self) -> Risk:
        return self.definitions.risk if self.definitions is not None else Risk.SAFE

    @property
    def has_definition_changes(self) -> bool:
        d = self.definitions
        return d is not None and bool(d.operations or d.layer_changes or d.option_sets)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "plugin": self.plugin,
            "action": self.action,
            "fromVersion": self.from_version,
            "toVersion": self.to_version,
            "applied": self.applied,
            "risk": self.risk.value,
            "definitions": self.definitions.as_dict() if self.definitions is not None else None,
            "roles": self.roles,
            "dataMigrations": self.migrations,
            "workflows": self.workflows,
            "rules": self.rules,
            "warnings": self.warnings,
        }
        if self.action == "uninstall":
            out["data"] = self.data
            out["purge"] = self.purge
            out["archivedTables"] = self.archived_tables
        return out

    def describe(self) -> list[str]:
        """Lines for the CLI (the definition operations are printed by ``echo_plan``)."""
        lines = []
        for r in self.roles:
            what = "create" if r["action"] == "create" else "exists, kept as it is"
            lines.append(f"role {r['name']}: {what}")
        for m in self.migrations:
            lines.append(f"data migration {m['version']}: {m['description'] or '(no description)'}")
        for w in self.workflows:
            lines.append(f"workflow {w}")
        for r in self.rules:
            lines.append(f"rule set {r}")
        for what, n in self.data.items():
            lines.append(f"{what}: {n} row(s) hold data")
        return lines
