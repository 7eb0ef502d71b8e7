"""xRM: an open-source low-code platform for any relationship management.

``xrm.create_app(config=None)`` builds the web application (``gunicorn "xrm:create_app()"``).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def create_app(config: dict[str, Any] | None = None):
    """Build the Flask application. See :mod:`xrm.app`."""
    from .app import create_app as _create_app

    return _create_app(config)


__all__ = ["__version__", "create_app"]
