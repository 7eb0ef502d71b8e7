"""Plugin errors; each maps to one HTTP status and names the plugin."""

from __future__ import annotations


class PluginError(Exception):
    """A plugin is broken or cannot be used as asked (its content, its declaration)."""

    status = 400
    title = "Plugin error"

    def __init__(self, message: str, *, plugin: str | None = None, details: dict | None = None):
        self.plugin = plugin
        self.details = details or {}
        super().__init__(message)


class PluginNotFound(PluginError):
    """No loaded plugin (or no installed plugin) has that name."""

    status = 404
    title = "Plugin not found"


class PluginInvalid(PluginError):
    """What the plugin declares is malformed (version, requirement, role, migration)."""

    status = 422
    title = "Invalid plugin"


class PluginDependencyError(PluginError):
    """A dependency is missing, circular, or of a version that does not satisfy."""

    status = 409
    title = "Plugin dependency error"


class PluginStateConflict(PluginError):
    """The operation does not fit the plugin's state: already installed, not installed,
    needed by an installed dependent, holding data that would be lost, a downgrade."""

    status = 409
    title = "Plugin state conflict"
