"""What plugins contribute to workflows: documents (``xrm_workflows``, ``xrm_rules``) installed
with their entity definitions, and action types (``xrm_action_types``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...metadata.errors import DefinitionInvalid, DefinitionProblem
from .documents import SavePlan


def plugin_action_types(pm: Any) -> dict[str, dict[str, Any]]:
    """name -> the plugin's declaration (``params``, ``required``, ``run``, ``doc``)."""
    if pm is None:
        return {}
    from ..plugins import plugin_contributions

    out: dict[str, dict[str, Any]] = {}
    for plugin, item in plugin_contributions(pm, "xrm_action_types"):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            from ..plugins import PluginError

            raise PluginError(f"plugin {plugin!r}: an action type is a mapping with a 'name'")
        out[item["name"]] = {**item, "plugin": plugin}
    return out


def install_plugin_documents(
    conn,
    platform: Any,
    plugin: str,
    workflows: Iterable[Mapping[str, Any]] = (),
    rules: Iterable[Mapping[str, Any]] = (),
    *,
    mapping: Mapping[str, Mapping[str, str]] | None = None,
) -> list[SavePlan]:
    """Install (or upgrade) a plugin's workflow and rule-set documents, in the caller's
    transaction, after its entity definitions are applied. Each is verified like an
    administrator's (errors refuse the whole install with every problem, naming the plugin and
    document); an unchanged document is not saved again. A document an administrator saved
    under the same name (source ``admin``) is kept: the plugin's new version is not forced
    over it (reported as ``unchanged``). ``mapping``: workflow name -> state mapping."""
    import sqlalchemy as sa

    from .tables import document

    service = platform.workflows
    source = f"plugin:{plugin}"
    plans: list[SavePlan] = []
    problems: list[DefinitionProblem] = []
    for kind, docs in (("rules", rules), ("workflow", workflows)):
        for doc in docs:
            name = doc.get("name") if isinstance(doc, Mapping) else None
            owner = conn.execute(
                sa.select(document.c.source).where(document.c.kind == kind, document.c.name == name)
            ).scalar()
            if owner == "admin":
                continue
            plan = service.save(
                conn,
                kind,
                doc,
                source=source,
                actor=source,
                dry_run=True,
                mapping=(mapping or {}).get(name),
            )
            if plan.errors:
                problems += [
                    DefinitionProblem(f"{kind}:{name}#{f.pointer}", f.message) for f in plan.errors
                ]
                continue
            plans.append(
                service.save(
                    conn, kind, doc, source=source, actor=source, mapping=(mapping or {}).get(name)
                )
            )
    if problems:
        raise DefinitionInvalid(f"plugin {plugin!r} workflows and rules", problems)
    return plans


class FunctionClash(Exception):
    status = 400


def register_cel_functions(pm: Any) -> list[str]:
    """Make the functions plugins contribute (``xrm_cel_functions``) known to the type checker
    and the evaluator. The expression language's function table is process-wide, like the
    plugin manager that feeds it; a plugin may not redefine a built-in or another plugin's
    function (refused at start-up). Returns the names added."""
    if pm is None:
        return []
    from ...workflow.expressions.functions import FUNCTIONS, PLATFORM_FUNCTIONS, Function
    from ..plugins import PluginError, plugin_contributions

    added = []
    for plugin, fn in plugin_contributions(pm, "xrm_cel_functions"):
        if not isinstance(fn, Function) or fn.impl is None:
            raise PluginError(f"plugin {plugin!r}: a CEL function is a Function with an impl")
        known = FUNCTIONS.get(fn.name)
        if known is not None and known is not fn and known != fn:
            owner = getattr(known, "_xrm_plugin", None)
            if owner != plugin:
                raise PluginError(
                    f"plugin {plugin!r}: CEL function {fn.name!r} is already defined"
                    + (f" by plugin {owner!r}" if owner else " (built-in)")
                )
        FUNCTIONS[fn.name] = fn
        PLATFORM_FUNCTIONS[fn.name] = fn.impl
        object.__setattr__(fn, "_xrm_plugin", plugin)
        added.append(fn.name)
    return added


def sync_plugin_documents(
    conn, platform: Any, names: Iterable[str] | None = None
) -> list[SavePlan]:
    """Install the workflows and rule sets of every loaded plugin (``xrm init``,
    ``xrm plugins sync``): :func:`install_plugin_documents` per plugin, in plugin order."""
    from ..plugins import plugin_names
    from ..plugins.manager import _call_one

    pm = platform.plugins
    plans = []
    for name in names if names is not None else plugin_names(pm):
        workflows = _call_one(pm, name, "xrm_workflows")
        rules = _call_one(pm, name, "xrm_rules")
        if workflows or rules:
            plans += install_plugin_documents(conn, platform, name, workflows, rules)
    return plans
