"""What a plugin declares about itself (``xrm_plugin_info``) and the order its dependencies
impose. Pure functions: no database, no plugin manager.

``requires`` items are plugin names with an optional version constraint in the syntax of
Python requirement specifiers (PEP 440): ``"party"``, ``"party>=1.0"``, ``"party>=1.2,<2"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .errors import PluginDependencyError, PluginInvalid

_REQUIREMENT = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_\-]*)\s*(.*?)\s*$")
DEFAULT_VERSION = "0.0.0"


@dataclass(frozen=True)
class Requirement:
    name: str
    specifier: SpecifierSet = field(default_factory=SpecifierSet)

    def __str__(self) -> str:
        return f"{self.name}{self.specifier}"

    def allows(self, version: str) -> bool:
        return self.specifier.contains(Version(version), prereleases=True)


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's declaration, checked."""

    name: str
    version: str = DEFAULT_VERSION
    label: str = ""
    description: str = ""
    requires: tuple[Requirement, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "version": self.version,
            "requires": [str(r) for r in self.requires],
        }


def parse_version(plugin: str, value: Any) -> Version:
    try:
        return Version(str(value))
    except InvalidVersion:
        raise PluginInvalid(
            f"plugin {plugin!r} declares version {value!r}, which is not a version number "
            "(PEP 440, e.g. 1.2.0)",
            plugin=plugin,
        ) from None


def parse_requirement(plugin: str, text: Any) -> Requirement:
    match = _REQUIREMENT.match(text) if isinstance(text, str) else None
    if match is None:
        raise PluginInvalid(
            f"plugin {plugin!r} requires {text!r}: expected a plugin name with an optional "
            "version constraint such as 'party>=1.0'",
            plugin=plugin,
        )
    name, spec = match.groups()
    try:
        return Requirement(name, SpecifierSet(spec))
    except InvalidSpecifier:
        raise PluginInvalid(
            f"plugin {plugin!r} requires {text!r}: {spec!r} is not a version constraint "
            "(e.g. '>=1.0,<2')",
            plugin=plugin,
        ) from None


def parse_info(name: str, declared: Mapping[str, Any] | None) -> PluginInfo:
    """Check what ``xrm_plugin_info`` returned for the plugin registered as ``name``."""
    # The name a plugin is registered under (its entry-point name) is its name; what
    # ``xrm_plugin_info`` says about the name is informative only.
    declared = dict(declared or {})
    version = str(declared.get("version", DEFAULT_VERSION))
    parse_version(name, version)
    requires = declared.get("requires", [])
    if isinstance(requires, str) or not isinstance(requires, list | tuple):
        raise PluginInvalid(
            f"plugin {name!r}: 'requires' must be a list such as ['party>=1.0']", plugin=name
        )
    return PluginInfo(
        name=name,
        version=version,
        label=str(declared.get("label", name)),
        description=str(declared.get("description", "")),
        requires=tuple(parse_requirement(name, r) for r in requires),
    )


def dependency_order(infos: Mapping[str, PluginInfo]) -> list[str]:
    """Every plugin after the plugins it requires (ties by name). Raises
    :class:`PluginDependencyError` naming the plugin for a missing dependency, a version that
    does not satisfy, or a cycle (with its path)."""
    for info in infos.values():
        for req in info.requires:
            dep = infos.get(req.name)
            if dep is None:
                raise PluginDependencyError(
                    f"plugin {info.name!r} requires {str(req)!r}, which is not loaded "
                    "(not installed with pip, or excluded by XRM_PLUGINS_ALLOW/XRM_PLUGINS_DENY)",
                    plugin=info.name,
                )
            if not req.allows(dep.version):
                raise PluginDependencyError(
                    f"plugin {info.name!r} requires {str(req)!r}, but {dep.name} "
                    f"{dep.version} is loaded",
                    plugin=info.name,
                )
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            raise PluginDependencyError(
                f"circular dependency between plugins: {' -> '.join(cycle)}", plugin=name
            )
        state[name] = "visiting"
        for req in sorted(infos[name].requires, key=lambda r: r.name):
            visit(req.name, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(infos):
        visit(name, [])
    return order


def dependents(infos: Mapping[str, PluginInfo], name: str, among: Iterable[str]) -> list[str]:
    """The plugins of ``among`` that require ``name``."""
    return sorted(n for n in among if n in infos and any(r.name == name for r in infos[n].requires))
