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
from .core.plugins.state import ActiveHooks, PluginStates
from .core.records.service import RecordService
from .core.security.permissions import XrmSecurityManager, permissions_apply_hook
from .core.workflows import create_workflow_service
from .metadata.database import create_engine
from .metadata.notify import notify_settings
from .metadata.registry import MetadataRegistry
from .settings import Settings
from .web.routing import LazyBuildRule

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
    #: Which loaded plugins are installed and enabled; ``hooks`` calls only theirs.
    plugin_states: PluginStates | None = None
    hooks: ActiveHooks | None = None
    #: Workflows, approvals, rules and automations (:class:`xrm.core.workflows.WorkflowService`).
    workflows: Any = None
    #: Outbox delivery: handlers and periodic jobs (xrm.core.jobs.JobRegistry).
    jobs: Any = None


def platform(app: Flask) -> Platform:
    return app.extensions["xrm"]


def _quiet_fab_logging() -> None:
    # FAB 5.3 warns for every relationship column of its own security API ("Filter type not
    # supported") and about the missing first user, which `xrm init` creates: noise, not news.
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)
    logging.getLogger("flask_appbuilder.security.sqla.manager").setLevel(logging.ERROR)
    logging.getLogger("flask_appbuilder.security.manager").setLevel(logging.ERROR)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    _quiet_fab_logging()
    config = dict(config or {})
    extra_plugins = config.pop("PLUGINS", None)
    settings = Settings.load(config)
    app = Flask("xrm", instance_path=str(settings.instance_path), instance_relative_config=True)
    app.url_rule_class = LazyBuildRule
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
        # The generated UI's start page (xrm.web.ui): the entities and dashboards one may open.
        FAB_INDEX_VIEW="xrm.web.ui.views.HomeView",
        # FAB's generic CRUD APIs over its own security tables (users, roles, permissions ...)
        # stay off: /api/v1/admin/ manages roles, grants and users with xRM's checks, and the
        # six model APIs cost a third of start-up. Login (/api/v1/security/login) is always on.
        FAB_ADD_SECURITY_API=False,
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
    listen, poll_seconds = notify_settings()  # XRM_METADATA_NOTIFY (PostgreSQL only)
    registry = MetadataRegistry(
        engine, apply_hooks=[permissions_apply_hook], listen=listen, poll_seconds=poll_seconds
    )
    registry.install()
    with engine.begin() as conn:
        core_tables.install(conn)
    plugins = create_plugin_manager(
        allow=settings.plugins_allow, deny=settings.plugins_deny, extra=extra_plugins
    )
    states = PluginStates(engine, registry, plugins, settings.plugins_disabled)
    hooks = ActiveHooks(plugins, states)
    records = RecordService(registry, hooks=hooks)
    app.extensions["xrm"] = Platform(
        settings=settings,
        engine=engine,
        registry=registry,
        records=records,
        plugins=plugins,
        appbuilder=appbuilder,
        plugin_states=states,
        hooks=hooks,
        workflows=create_workflow_service(registry, records, plugins, hooks=hooks),
    )
    registry.snapshot()  # compile once at start-up
    from .core.jobs.integration import install_jobs

    install_jobs(app, app.extensions["xrm"])
    from .core.workflows.jobs import register_workflow_jobs

    # Timers and schedules are periodic jobs; an application built for tests (TESTING) runs
    # them only when asked (WORKFLOW_PERIODIC_JOBS=True), as it starts no dispatcher either.
    # XRM_WORKFLOW_PERIODIC_JOBS=0 leaves them out (a deployment that runs them elsewhere).
    periodic = settings.extra.get("WORKFLOW_PERIODIC_JOBS")
    if periodic is None:
        flag = os.environ.get("XRM_WORKFLOW_PERIODIC_JOBS", "").strip().lower()
        periodic = flag not in ("0", "false", "no") if flag else not app.testing
    register_workflow_jobs(app.extensions["xrm"].jobs, app.extensions["xrm"], bool(periodic))
    if periodic and settings.audit_retention_days > 0:
        from .core.records.audit import register_retention

        register_retention(app.extensions["xrm"].jobs, settings.audit_retention_days)

    from .web import register_web

    register_web(app)
    hooks.xrm_app_ready(app=app)
    return app
