"""Shared fixtures: real databases, never mocks.

The suite runs once per database: ``XRM_TEST_DATABASE=sqlite`` (default; a fresh file per test)
or ``XRM_TEST_DATABASE=postgresql`` (a fresh schema per test in the database named by
``XRM_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
When ``CI=true``, an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from xrm.metadata.database import create_engine
from xrm.metadata.registry import MetadataRegistry

BACKEND = os.environ.get("XRM_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get(
    "XRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_reachable() -> str | None:
    try:
        eng = sa.create_engine(POSTGRES_URL)
        with eng.connect() as c:
            c.exec_driver_sql("SELECT 1")
        eng.dispose()
        return None
    except Exception as exc:  # report why, once
        return f"{type(exc).__name__}: {exc}"


def pytest_report_header(config):
    return f"xrm test database: {BACKEND}"


def pytest_sessionstart(session):
    if BACKEND == "postgresql":
        problem = _postgres_reachable()
        if problem and IN_CI:
            raise pytest.UsageError(
                f"CI=true and PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
            )
        session.config._xrm_pg_problem = problem


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL run, leave out the tests that never touch the database under test.

    A test reaches the backend only through the ``database_url`` fixture (``engine``,
    ``registry``, ``make_app``, ``app`` and the rest build on it). A test without it in its
    fixture closure (CEL, meta-schemas, the planner, field types) does the same work on either
    run, so the SQLite run covers it and the PostgreSQL run deselects it (reported, not skipped).
    The browser tests (``tests/browser``) run once too, on the SQLite run: they drive the same
    API, whose behaviour on PostgreSQL the rest of the suite checks, and the embedded SQLite
    database is what ``scripts/run.sh`` serves. ``XRM_TEST_ALL=1`` keeps all of them.
    """
    if BACKEND != "postgresql" or os.environ.get("XRM_TEST_ALL") == "1":
        return
    kept, dropped = [], []
    for item in items:
        in_browser = item.nodeid.startswith("tests/browser/")
        uses_db = "database_url" in getattr(item, "fixturenames", ())
        (kept if uses_db and not in_browser else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def database_url(tmp_path, request):
    """A URL of an empty database of the backend under test."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'xrm.sqlite'}"
        return
    problem = getattr(request.config, "_xrm_pg_problem", None)
    if problem:
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture
def engine(database_url):
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def registry(engine):
    from xrm.core import tables

    reg = MetadataRegistry(engine)
    reg.install()
    with engine.begin() as conn:
        tables.install(conn)
    return reg


@pytest.fixture
def backend():
    return BACKEND


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an application on the test database; plugins only when asked for."""
    apps = []

    def build(plugins: dict | None = None, allow: tuple[str, ...] = (), **config):
        from xrm import create_app

        app = create_app(
            {
                "DATABASE_URL": database_url,
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "SECRET_KEY": "test-secret-key-not-for-production",
                "PLUGINS_ALLOW": allow,
                "PLUGINS": plugins or {},
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                # FAB's permission sync commits ~200 times on a fresh database; tests that need
                # FAB's own view permissions turn it back on.
                "FAB_UPDATE_PERMS": False,
                **config,
            }
        )
        apps.append(app)
        return app

    yield build
    from xrm.core.jobs.integration import stop_runner

    for app in apps:
        # a jobs thread left running would tick against a dropped schema and keep the app alive
        assert stop_runner(app), "the application's jobs thread did not stop"
        app.extensions["xrm"].registry.close()  # its LISTEN connection (PostgreSQL)
        app.extensions["xrm"].engine.dispose()
        with app.app_context():
            app.extensions["sqlalchemy"].engines[None].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


ADMIN_PASSWORD = "admin-password-for-tests"


@pytest.fixture
def admin_token(app):
    """A JWT of a freshly created administrator."""
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user(
            "admin",
            "Admin",
            "User",
            "admin@example.org",
            sm.find_role("Admin"),
            password=ADMIN_PASSWORD,
        )
    res = app.test_client().post(
        "/api/v1/security/login",
        json={"username": "admin", "password": ADMIN_PASSWORD, "provider": "db"},
    )
    assert res.status_code == 200, res.json
    return res.json["access_token"]
