"""Discovery through entry points, allow/deny lists, and dependency resolution."""

from __future__ import annotations

import re

import pytest

from xrm.core.plugins import (
    PluginDependencyError,
    PluginInvalid,
    create_plugin_manager,
    hookimpl,
    plugin_names,
)
from xrm.core.plugins.dependencies import PluginInfo, dependency_order, parse_info
from xrm.settings import Settings


def info(name, *requires, version="1.0.0"):
    return parse_info(name, {"version": version, "requires": list(requires)})


def infos(*items: PluginInfo) -> dict[str, PluginInfo]:
    return {i.name: i for i in items}


# -- allow / deny (the domain plugins are installed in the environment with entry points: party,
# crm (requires party), vrm, srm (require party), brm (requires crm)) ---------------------------


def test_entry_point_plugins_are_discovered():
    pm = create_plugin_manager()
    assert "crm" in plugin_names(pm)


def test_the_allow_list_loads_only_the_named_plugins():
    assert plugin_names(create_plugin_manager(allow=("party", "crm"))) == [
        "party",
        "crm",
    ]  # dependency order
    assert plugin_names(create_plugin_manager(allow=())) == []


def test_the_deny_list_skips_a_discovered_plugin():
    names = plugin_names(create_plugin_manager(deny=("brm",)))
    assert "brm" not in names and "crm" in names


def test_denying_a_plugin_others_require_names_both():
    with pytest.raises(PluginDependencyError, match="'brm' requires 'crm'"):
        create_plugin_manager(deny=("crm",))


def test_allow_and_deny_come_from_the_environment(tmp_path):
    s = Settings.load(
        {"INSTANCE_PATH": str(tmp_path)},
        env={"XRM_PLUGINS_ALLOW": "party, crm, vrm", "XRM_PLUGINS_DENY": "vrm"},
    )
    assert s.plugins_allow == ("party", "crm", "vrm") and s.plugins_deny == ("vrm",)
    pm = create_plugin_manager(allow=s.plugins_allow, deny=s.plugins_deny)
    assert plugin_names(pm) == ["party", "crm"]  # dependency order


def test_an_app_built_with_an_allow_list_serves_only_those_plugins(make_app):
    app = make_app(allow=("party",))
    assert plugin_names(app.extensions["xrm"].plugins) == ["party"]


# -- dependencies (pure) ------------------------------------------------------------------------


def test_dependencies_come_first_whatever_the_names():
    order = dependency_order(infos(info("a", "c"), info("b"), info("c", "b"), info("d", "a", "b")))
    assert order == ["b", "c", "a", "d"]


def test_a_missing_dependency_names_the_plugin():
    with pytest.raises(PluginDependencyError, match="'crm' requires 'party', which is not loaded"):
        dependency_order(infos(info("crm", "party")))


def test_a_circular_dependency_shows_the_cycle():
    with pytest.raises(PluginDependencyError, match=re.escape("a -> b -> c -> a")):
        dependency_order(infos(info("a", "b"), info("b", "c"), info("c", "a")))


def test_a_version_that_does_not_satisfy_names_both_plugins():
    with pytest.raises(
        PluginDependencyError,
        match=re.escape("'crm' requires 'party>=2.0', but party 1.4.0 is loaded"),
    ):
        dependency_order(infos(info("crm", "party>=2.0"), info("party", version="1.4.0")))


def test_a_version_range_is_accepted():
    assert dependency_order(
        infos(info("crm", "party>=1.2,<2"), info("party", version="1.4.0"))
    ) == ["party", "crm"]


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"version": "one"}, "declares version 'one'"),
        ({"requires": "party"}, "'requires' must be a list"),
        ({"requires": ["party>>1"]}, "'>>1' is not a version constraint"),
        ({"requires": [3]}, "requires 3"),
    ],
)
def test_malformed_declarations_name_the_plugin(declared, message):
    with pytest.raises(PluginInvalid, match=re.escape(message)) as exc:
        parse_info("crm", declared)
    assert "'crm'" in str(exc.value)


def test_a_missing_dependency_stops_the_start_naming_the_plugin(make_app):
    class Crm:
        @hookimpl
        def xrm_plugin_info(self):
            return {"name": "crm2", "requires": ["party"]}

    with pytest.raises(PluginDependencyError, match="'crm2' requires 'party'"):
        make_app(plugins={"crm2": Crm()})
