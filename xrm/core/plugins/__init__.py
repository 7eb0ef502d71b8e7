"""Public plugin API: the hook markers and helpers a plugin uses."""

from ..records.events import RecordEvent, RecordVetoed
from .hookspecs import hookimpl, hookspec
from .manager import (
    ENTRY_POINT_GROUP,
    PluginError,
    create_plugin_manager,
    load_json_documents,
    plugin_layer_changes,
    plugin_names,
    plugin_option_sets,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "RecordEvent",
    "RecordVetoed",
    "create_plugin_manager",
    "hookimpl",
    "hookspec",
    "load_json_documents",
    "plugin_layer_changes",
    "plugin_names",
    "plugin_option_sets",
]
