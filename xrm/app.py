"""The application factory.

Flask-AppBuilder is the host (login, users, roles, menus, JWT API login at
``POST /api/v1/security/login``); the metadata registry, the record service and the plugin
manager hang off ``app.extensions["xrm"]`` as an explicit :class:`Platform` object.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import pluggy
import sqlalchemy as sa
from flask import Flask
from flask_appbuilder import AppBuilder
from flask_appbuilder.const import AUTH_DB
from flask_appbuilder.models.sqla.base import SQLA

from .core import tables as core_tables
from .core.plugins import create_plugin_manager
from .core.records.service import RecordService
from .core.security.permissions import XrmSecurityManager, permissions_apply_hook
from .metadata.database import create_engine
from .metadata.registry import MetadataRegistry
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """Everything the web layer needs, passed explicitly (found at ``app.extensions["xrm"]``)."""

    settings: Settings
    engine: sa.Engine
    registry: MetadataRegistry
    records: RecordService
    plugins: pluggy.PluginManager
    appbuilder: AppBuilder


def platform(app: Flask) -> Platform:
    return app.extensions["xrm"]


def _quiet_fab_logging() -> None:
    # FAB 5.3 warns for every relationship column of its own security API ("Filter type not
    # supported") and about the missing first user, which `xrm init` creates: noise, not news.
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)
    logging.getLogger("flask_appbuilder.security.sqla.manager").setLevel(logging.ERROR)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    _quiet_fab_logging()
    config = dict(config or {})
    extra_plugins = config.pop("PLUGINS", None)
    settings = Settings.load(config)
    app = Flask("xrm", instance_path=str(settings.instance_path), instance_relative_config=True)
    db_url = create_engine(settings.database_url).url  # normalized (psycopg driver)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=db_url.render_as_string(hide_password=False),
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 30}}
        if db_url.drivername.startswith("sqlite")
        else {},
        AUTH_TYPE=AUTH_DB,
        AUTH_ROLE_ADMIN="Admin",
        AUTH_ROLE_PUBLIC="Public",
        APP_NAME="xRM",
        FAB_ADD_SECURITY_API=True,
        FAB_API_SWAGGER_UI=False,
        # FAB's permission sync rewrites the roles' permissions on every start (seconds with
        # hundreds of entities); `xrm init` runs it once instead (XRM_UPDATE_PERMS=1 forces it).
        FAB_UPDATE_PERMS=os.environ.get("XRM_UPDATE_PERMS", "") == "1",
        JSON_SORT_KEYS=False,
        WTF_CSRF_ENABLED=True,
        # FAB's Flask-Limiter instance, enabled without default limits: xrm.web.ratelimit
        # applies XRM_RATE_LIMIT to the xRM API only.
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=os.environ.get("XRM_RATE_LIMIT_STORAGE", "memory://"),
        XRM_RATE_LIMIT=os.environ.get("XRM_RATE_LIMIT", "1000 per minute"),
    )
    app.config.update(settings.extra)
    app.json.sort_keys = False  # records keep their field order

    db = SQLA()
    db.init_app(app)
    appbuilder = AppBuilder(security_manager_class=XrmSecurityManager, update_perms=False)
    with app.app_context():
        appbuilder.init_app(app, db.session)

    engine = create_engine(settings.database_url)
    registry = MetadataRegistry(engine, apply_hooks=[permissions_apply_hook])
    registry.install()
    with engine.begin() as conn:
        core_tables.install(conn)
    plugins = create_plugin_manager(
        allow=settings.plugins_allow, deny=settings.plugins_deny, extra=extra_plugins
    )
    app.extensions["xrm"] = Platform(
        settings=settings,
        engine=engine,
        registry=registry,
        records=RecordService(registry, hooks=plugins.hook),
        plugins=plugins,
        appbuilder=appbuilder,
    )
    registry.snapshot()  # compile once at start-up

    from .web import register_web

    register_web(app)
    plugins.hook.xrm_app_ready(app=app)
    return app
