"""The domain plugins use only the public plugin API (``xrm.core.plugins``), and the public API's
own helpers (``PluginPackage``, ``DemoContext``, ``cel_function``) do what they say."""

from __future__ import annotations

import ast
import random
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import Group, User, assoc_user_group

import xrm.core.plugins as public
from xrm.core.plugins import (
    SYSTEM,
    DemoContext,
    PluginError,
    PluginPackage,
    cel_function,
    create_plugin_manager,
)

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
PUBLIC = "xrm.core.plugins"
#: third-party libraries a plugin may import (besides the standard library and other plugins)
LIBRARIES: frozenset[str] = frozenset()


def _imports(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """``(line, module, names)`` of every import in a file (relative imports left out)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            out.append((node.lineno, node.module or "", tuple(a.name for a in node.names)))
    return out


def non_public_imports(root: Path) -> list[str]:
    """Every import under ``root`` that reaches past the public plugin API: anything of
    ``xrm`` but ``from xrm.core.plugins import <exported name>``, and any third-party module."""
    import sys

    stdlib = sys.stdlib_module_names
    problems = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root)
        for line, module, names in _imports(path):
            top = module.split(".")[0]
            if top == "xrm":
                unknown = [n for n in names if n not in public.__all__]
                if module != PUBLIC or not names or unknown:
                    what = f"from {module} import {', '.join(names)}" if names else module
                    problems.append(f"{where}:{line}: {what}")
            elif top.startswith("xrm_") or top in stdlib or top == "__future__":
                continue
            elif top not in LIBRARIES:
                problems.append(f"{where}:{line}: {module} (not a plugin dependency)")
    return problems


def test_every_domain_plugin_imports_only_the_public_plugin_api():
    packages = sorted(p.parent for p in PLUGINS.glob("*/xrm_*/__init__.py"))
    assert len(packages) == 5
    problems = [f"{pkg.name}/{p}" for pkg in packages for p in non_public_imports(pkg)]
    assert problems == []


def test_the_import_check_finds_private_imports(tmp_path):
    (tmp_path / "mod.py").write_text(
        "from xrm.core.context import SYSTEM\n"
        "import xrm.core.records.service\n"
        "from xrm.core.plugins import hookimpl, not_exported\n"
        "from xrm.core.plugins.lifecycle import PluginLifecycle\n"
        "import sqlalchemy\n"
        "from xrm.core.plugins import SYSTEM, PluginPackage\n"
        "import json\n"
        "from xrm_party import dispatch\n"
        "from . import sibling\n",
        encoding="utf-8",
    )
    assert non_public_imports(tmp_path) == [
        "mod.py:1: from xrm.core.context import SYSTEM",
        "mod.py:2: xrm.core.records.service",
        "mod.py:3: from xrm.core.plugins import hookimpl, not_exported",
        "mod.py:4: from xrm.core.plugins.lifecycle import PluginLifecycle",
        "mod.py:5: sqlalchemy (not a plugin dependency)",
    ]


# --- PluginPackage ---------------------------------------------------------------------------


def _package(tmp_path, monkeypatch, folders=("entities", "rules")):
    name = f"xrm_pkgdemo_{uuid.uuid4().hex[:8]}"  # a fresh module per test
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    for folder in folders:
        (pkg / folder).mkdir()
        (pkg / folder / "b.json").write_text(f'{{"doc": "{folder}-b"}}', encoding="utf-8")
        (pkg / folder / "a.json").write_text(f'{{"doc": "{folder}-a"}}', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_a_plugin_package_builds_the_standard_hooks_from_its_folders_and_data(
    tmp_path, monkeypatch
):
    package = _package(tmp_path, monkeypatch)
    seen = []
    namespace: dict = {}
    names = PluginPackage(
        package,
        {"name": "pkgdemo", "version": "1.0.0"},
        menus=[{"name": "pkgdemo", "items": []}],
        demo_data=seen.append,
    ).export(namespace)
    assert sorted(names) == [
        "xrm_demo_data",
        "xrm_entity_definitions",
        "xrm_menus",
        "xrm_plugin_info",
        "xrm_rules",
    ]
    assert namespace["xrm_entity_definitions"]() == [{"doc": "entities-a"}, {"doc": "entities-b"}]
    assert namespace["xrm_rules"]() == [{"doc": "rules-a"}, {"doc": "rules-b"}]
    namespace["xrm_demo_data"]("ctx")
    assert seen == ["ctx"]

    class Plugin:
        pass

    plugin = Plugin()
    for name in names:
        setattr(plugin, name, namespace[name])
    pm = create_plugin_manager(discover=False, extra={"pkgdemo": plugin})
    assert pm.hook.xrm_plugin_info() == [{"name": "pkgdemo", "version": "1.0.0"}]
    assert pm.hook.xrm_menus() == [[{"name": "pkgdemo", "items": []}]]


def test_a_plugin_package_refuses_to_replace_a_hook_the_module_defines(tmp_path, monkeypatch):
    package = _package(tmp_path, monkeypatch, folders=("workflows",))
    namespace = {"xrm_workflows": lambda: []}
    with pytest.raises(PluginError, match="defines xrm_workflows itself"):
        PluginPackage(package, {"name": "pkgdemo"}).export(namespace)


def test_a_plugin_package_needs_a_name():
    with pytest.raises(PluginError, match="needs a 'name'"):
        PluginPackage("xrm_pkgdemo", {"label": "Nameless"})


# --- DemoContext: users, roles and teams -----------------------------------------------------


def test_the_demo_context_ensures_users_roles_and_teams_once(make_app):
    from xrm.core.records.errors import RecordInvalid

    app = make_app(allow=())
    p = app.extensions["xrm"]
    with p.engine.begin() as conn:
        ctx = DemoContext(app, p, conn, p.records, SYSTEM, random.Random(0))
        ctx.ensure_role("Demo Role")
        rep = ctx.ensure_user("rep", "Rita", "Rep", roles=["Demo Role", "No Such Role"])
        again = ctx.ensure_user("rep", "Other", "Name", roles=["Demo Role"])
        boss = ctx.ensure_user("boss", "Bo", "Boss", email="bo@example.org")
        team = ctx.ensure_team("Sales", [rep, boss])
        assert ctx.ensure_team("Sales", [rep]) == team
        with pytest.raises(RecordInvalid, match="a user needs a non-empty name, got ' '"):
            ctx.ensure_user(" ", "A", "B")
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username="rep")
        assert again == rep and [r.name for r in user.roles] == ["Demo Role"]
        assert (user.first_name, user.email, user.active) == ("Rita", "rep@demo.example", True)
        assert sm.find_user(username="boss").email == "bo@example.org"
        assert sm.find_role("No Such Role") is None
    with p.engine.connect() as conn:
        members = conn.execute(
            sa.select(User.__table__.c.username)
            .join(assoc_user_group, assoc_user_group.c.user_id == User.__table__.c.id)
            .join(Group.__table__, Group.__table__.c.id == assoc_user_group.c.group_id)
            .where(Group.__table__.c.name == "Sales")
            .order_by(User.__table__.c.username)
        ).scalars()
        assert list(members) == ["boss", "rep"]


# --- CEL functions ---------------------------------------------------------------------------


def test_cel_function_declares_one_overload_from_kinds():
    fn = cel_function("vatRate", ["string"], "double", impl=lambda country: 0.19, doc="VAT")
    ((args, result),) = fn.overloads
    assert (fn.name, args, str(result), fn.impl("DE"), fn.doc) == (
        "vatRate",
        ("string",),
        "double",
        0.19,
        "VAT",
    )
    with pytest.raises(ValueError, match="unknown return kind 'float'"):
        cel_function("bad", [], "float", impl=float)


# --- RecordEvent.fire --------------------------------------------------------------------------


def test_firing_from_an_event_without_a_workflow_runtime_says_so():
    from xrm.core.plugins import RecordEvent
    from xrm.core.records.errors import RecordError

    class BareRecords:
        workflows = None

    event = RecordEvent("crm.opportunity", "transition", SYSTEM, None, BareRecords())
    with pytest.raises(RecordError, match=r"cannot fire 'win' on brm\.deal_registration 7"):
        event.fire("brm.deal_registration", 7, "win")
