"""Installing a plugin's workflows and rule sets (``xrm_workflows``, ``xrm_rules``).

The workflow runtime owns how they are verified and stored; this calls its one entry point,
:func:`xrm.core.workflows.install_plugin_documents`, inside the lifecycle transaction (after the
definitions, before the data migrations). A document an administrator saved under the same name
is kept; a document with errors refuses the whole install or upgrade.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def install_workflows_and_rules(
    conn: sa.Connection,
    platform: Any,
    plugin: str,
    workflows: list[dict[str, Any]],
    rules: list[dict[str, Any]],
) -> list[str]:
    """Install the documents in the caller's transaction; returns warnings (the verifier's
    findings that do not block)."""
    if not workflows and not rules:
        return []
    from ..workflows import install_plugin_documents  # the runtime imports the plugin API

    plans = install_plugin_documents(conn, platform, plugin, workflows, rules)
    return [
        f"{plan.kind} {plan.name}: {f.pointer or '/'}: {f.message}"
        for plan in plans
        for f in getattr(plan, "findings", [])
    ]
