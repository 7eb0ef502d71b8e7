"""Public plugin API: the hook markers and everything a plugin may use.

A plugin imports from ``xrm.core.plugins`` only (``tests/plugins/test_public_api.py`` checks
the domain plugins); what is not exported here is the platform's own business and may change.
"""

from ..context import SYSTEM, Actor
from ..records.events import RecordEvent, RecordVetoed
from .cel import CelFunction, cel_function
from .concerns import concerns
from .demo import DemoContext
from .errors import (
    PluginDependencyError,
    PluginError,
    PluginInvalid,
    PluginNotFound,
    PluginStateConflict,
)
from .hookspecs import hookimpl, hookspec
from .manager import (
    ENTRY_POINT_GROUP,
    create_plugin_manager,
    load_json_documents,
    plugin_contributions,
    plugin_infos,
    plugin_layer_changes,
    plugin_names,
    plugin_option_sets,
)
from .migrations import DataMigrationContext
from .package import PluginPackage

__all__ = [
    "ENTRY_POINT_GROUP",
    "SYSTEM",
    "Actor",
    "CelFunction",
    "DataMigrationContext",
    "DemoContext",
    "PluginDependencyError",
    "PluginError",
    "PluginInvalid",
    "PluginNotFound",
    "PluginPackage",
    "PluginStateConflict",
    "RecordEvent",
    "RecordVetoed",
    "cel_function",
    "concerns",
    "create_plugin_manager",
    "hookimpl",
    "hookspec",
    "load_json_documents",
    "plugin_contributions",
    "plugin_infos",
    "plugin_layer_changes",
    "plugin_names",
    "plugin_option_sets",
]
