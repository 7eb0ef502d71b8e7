"""Fixtures of the plugin tests: applications built with the sample plugins of
``plugin_samples``."""

from __future__ import annotations

import pytest

from xrm.core.context import SYSTEM
from xrm.core.plugins.lifecycle import PluginLifecycle


@pytest.fixture
def platform_with(make_app):
    """``platform_with(catalog=Catalog(), ...)`` -> (platform, lifecycle) of a fresh app on the
    test database (the same database for every call of one test)."""

    def build(**plugins):
        app = make_app(plugins=plugins)
        p = app.extensions["xrm"]
        return p, PluginLifecycle(p)

    return build


@pytest.fixture
def actor():
    return SYSTEM
