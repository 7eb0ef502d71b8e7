"""Public plugin API: the hook markers and helpers a plugin uses."""

from ..records.events import RecordEvent, RecordVetoed
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

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginDependencyError",
    "PluginError",
    "PluginInvalid",
    "PluginNotFound",
    "PluginStateConflict",
    "RecordEvent",
    "RecordVetoed",
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
