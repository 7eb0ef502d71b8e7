"""Small plugins for the lifecycle tests, built per test (never registered globally)."""

from __future__ import annotations

from xrm.core.plugins import hookimpl


class Catalog:
    """The ``catalog`` plugin: products, a shared option set, a role, data migrations."""

    def __init__(self, version="1.0.0", fields=None, migrations=(), roles=None, requires=()):
        self.version = version
        self.fields = fields or {"title": {"type": "string"}}
        self.migrations = list(migrations)
        self.roles = roles
        self.requires = list(requires)

    @hookimpl
    def xrm_plugin_info(self):
        return {
            "name": "catalog",
            "label": "Catalog",
            "version": self.version,
            "requires": self.requires,
        }

    @hookimpl
    def xrm_option_sets(self):
        return [{"name": "catalog.colour", "options": [{"value": "red"}, {"value": "blue"}]}]

    @hookimpl
    def xrm_entity_definitions(self):
        return [{"x-xrm": {"name": "catalog.product"}, "properties": dict(self.fields)}]

    @hookimpl
    def xrm_default_roles(self):
        if self.roles is not None:
            return self.roles
        return [
            {
                "name": "Catalog Editor",
                "permissions": {"catalog.product": ["read", "create", "update"]},
                "scopes": {"catalog.product": "own"},
            }
        ]

    @hookimpl
    def xrm_data_migrations(self):
        return self.migrations


class Orders:
    """The ``orders`` plugin: requires catalog, references its products, extends them."""

    def __init__(self, requires=("catalog>=1.0",), version="1.0.0"):
        self.requires = list(requires)
        self.version = version
        self.seen = []

    @hookimpl
    def xrm_plugin_info(self):
        return {"name": "orders", "version": self.version, "requires": self.requires}

    @hookimpl
    def xrm_entity_definitions(self):
        return [
            {
                "x-xrm": {"name": "orders.order"},
                "properties": {
                    "product": {"x-xrm": {"type": "reference", "target": "catalog.product"}},
                    "qty": {"type": "integer"},
                },
            }
        ]

    @hookimpl
    def xrm_entity_extensions(self):
        return [{"entity": "catalog.product", "properties": {"orderable": {"type": "boolean"}}}]

    @hookimpl
    def xrm_after_create(self, event):
        self.seen.append(event.entity)

    @hookimpl
    def xrm_menus(self):
        return [{"name": "orders", "label": "Orders", "items": [{"entity": "orders.order"}]}]
