"""The plugin tests' fixtures live in :mod:`plugin_support` (a uniquely named module, so test
modules can import its example plugins: several test folders have a ``conftest``)."""

from plugin_support import *  # noqa: F403  (fixtures and example plugins)
