"""The thin part that knows Flask: the application factory gives the platform its job registry
and, in ``inline`` (and ``celery``) mode, a jobs thread started with the first request, so
commands such as ``xrm init`` never start one. ``XRM_JOBS=worker`` starts nothing here: run
``xrm worker``."""

from __future__ import annotations

import atexit
import threading

from flask import Flask

from . import create_job_registry
from .config import JobConfig
from .registry import JobRegistry
from .runner import JobRunner

RUNNER_KEY = "xrm.jobs.runner"


def install_jobs(app: Flask, platform) -> JobRegistry:
    settings = platform.settings
    config = JobConfig.load(settings.extra)
    jobs = create_job_registry(config)
    platform.jobs = jobs
    # Tests build many applications: they start a dispatcher only when they ask for one.
    explicit = "JOBS" in settings.extra
    if config.mode == "worker" or (app.testing and not explicit):
        return jobs
    lock = threading.Lock()

    @app.before_request
    def _start_jobs() -> None:
        if RUNNER_KEY in app.extensions:
            return
        with lock:
            if RUNNER_KEY not in app.extensions:
                app.extensions[RUNNER_KEY] = start_runner(platform, jobs)

    return jobs


def start_runner(platform, jobs: JobRegistry) -> JobRunner:
    runner = JobRunner(platform, jobs, kind="app").start()
    atexit.register(runner.stop, 5.0)
    return runner


def stop_runner(app: Flask, timeout: float = 10.0) -> bool:
    runner = app.extensions.pop(RUNNER_KEY, None)
    if runner is None:
        return True
    atexit.unregister(runner.stop)  # nothing left to stop at exit, and the app can be freed
    return runner.stop(timeout)
