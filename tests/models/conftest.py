"""The model tests' fixtures live in :mod:`models_support` (a uniquely named module, so test
modules can import its helpers: several test folders have a ``conftest``)."""

from models_support import *  # noqa: F403  (fixtures and helpers)
