"""The standard hook implementations of a plugin shipped as a Python package.

Most plugins are data: a description, JSON documents in package folders (``entities/``,
``option_sets/``, ``workflows/``, ``rules/``) and lists of roles, menus, views, dashboards and
extensions. :class:`PluginPackage` turns that into hook implementations, so a plugin module
only writes the hooks that hold code (record lifecycle, action types...)::

    PluginPackage(
        __package__,
        {"name": "acme", "label": "ACME help desk", "version": "1.0.0", "requires": ["crm"]},
        roles=ROLES, menus=MENUS, demo_data=load_demo,
    ).export(globals())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from importlib import resources
from typing import Any

from .errors import PluginError
from .hookspecs import hookimpl
from .manager import load_json_documents

#: hook -> package folder its JSON documents are read from
FOLDERS = {
    "xrm_entity_definitions": "entities",
    "xrm_option_sets": "option_sets",
    "xrm_workflows": "workflows",
    "xrm_rules": "rules",
}
#: hook -> keyword argument of :class:`PluginPackage` holding its list
LISTS = {
    "xrm_entity_extensions": "extensions",
    "xrm_default_roles": "roles",
    "xrm_menus": "menus",
    "xrm_views": "views",
    "xrm_dashboards": "dashboards",
}


def _returning(value: Any) -> Callable[[], Any]:
    def hook():
        return value

    return hook


def _reading(package: str, folder: str) -> Callable[[], list[dict[str, Any]]]:
    def hook():
        return load_json_documents(package, folder)

    return hook


class PluginPackage:
    """Hook implementations built from a plugin package and its data.

    - ``xrm_plugin_info`` returns ``info``;
    - ``xrm_entity_definitions``, ``xrm_option_sets``, ``xrm_workflows``, ``xrm_rules`` read
      every ``*.json`` of the package folder ``entities``, ``option_sets``, ``workflows``,
      ``rules`` (:func:`load_json_documents`), for each folder the package has;
    - ``xrm_entity_extensions``, ``xrm_default_roles``, ``xrm_menus``, ``xrm_views``,
      ``xrm_dashboards`` return ``extensions``, ``roles``, ``menus``, ``views``, ``dashboards``
      when given;
    - ``xrm_demo_data`` calls ``demo_data(context)`` when given.
    """

    def __init__(
        self,
        package: str,
        info: Mapping[str, Any],
        *,
        extensions: list[dict[str, Any]] | None = None,
        roles: list[dict[str, Any]] | None = None,
        menus: list[dict[str, Any]] | None = None,
        views: list[dict[str, Any]] | None = None,
        dashboards: list[dict[str, Any]] | None = None,
        demo_data: Callable[[Any], None] | None = None,
    ):
        if not info.get("name"):
            raise PluginError(f"plugin package {package!r}: info needs a 'name'")
        self.package = package
        self.info = dict(info)
        self.lists = {
            "extensions": extensions,
            "roles": roles,
            "menus": menus,
            "views": views,
            "dashboards": dashboards,
        }
        self.demo_data = demo_data

    def hookimpls(self) -> dict[str, Callable[..., Any]]:
        """The hook implementations, by hook name (each marked with ``hookimpl``)."""
        hooks: dict[str, Callable[..., Any]] = {"xrm_plugin_info": _returning(dict(self.info))}
        root = resources.files(self.package)
        for hook, folder in FOLDERS.items():
            if root.joinpath(folder).is_dir():
                hooks[hook] = _reading(self.package, folder)
        for hook, key in LISTS.items():
            if self.lists[key] is not None:
                hooks[hook] = _returning(self.lists[key])
        if self.demo_data is not None:
            load = self.demo_data

            def xrm_demo_data(context):
                load(context)

            hooks["xrm_demo_data"] = xrm_demo_data
        out = {}
        for name, fn in hooks.items():
            fn.__name__ = fn.__qualname__ = name
            fn.__module__ = self.package
            out[name] = hookimpl(fn)
        return out

    def export(self, namespace: MutableMapping[str, Any]) -> list[str]:
        """Put the hook implementations into a plugin module's namespace (``globals()``);
        returns their names. A hook the module already defines itself is an error, not
        silently replaced."""
        hooks = self.hookimpls()
        clash = sorted(name for name in hooks if name in namespace)
        if clash:
            raise PluginError(
                f"plugin {self.info['name']!r} defines {', '.join(clash)} itself and through "
                "PluginPackage; keep one"
            )
        namespace.update(hooks)
        return list(hooks)
