"""The engine tests' fixtures live in :mod:`engine_support` (a uniquely named module, so test
modules can import its data: several test folders have a ``conftest``)."""

from engine_support import *  # noqa: F403  (fixtures and example definitions)
