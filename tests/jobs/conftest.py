"""Fixtures of the jobs tests (helpers in jobs_support.py): a platform that dispatches only when
told, a real HTTP receiver and SMTP server on 127.0.0.1, and the transports (inline, Celery on
Redis, Celery on RabbitMQ) that the delivery tests run against."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from jobs_support import (
    BROKERS,
    FAST_RETRIES,
    IN_CI,
    Mailbox,
    Receiver,
    Transport,
    broker_problem,
    free_port,
)

from xrm.core.jobs import Dispatcher


@pytest.fixture
def jobs_app(make_app):
    return make_app(**FAST_RETRIES)


@pytest.fixture
def platform(jobs_app):
    return jobs_app.extensions["xrm"]


# -- transports -------------------------------------------------------------------------------


@pytest.fixture(params=["inline", "redis", "amqp"])
def transport(request, platform):
    name = request.param
    if name == "inline":
        yield Transport(name, platform, Dispatcher(platform, platform.jobs))
        return
    url = BROKERS[name]
    problem = broker_problem(url)
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true and the {name} broker at {url} is unreachable: {problem}")
        pytest.skip(f"{name} broker at {url} unreachable: {problem}")
    from celery.contrib.testing.worker import start_worker

    from xrm.core.jobs.celery import CeleryRelay, bind_platform, make_celery

    queue = f"xrm-test-{uuid.uuid4().hex[:10]}"
    platform.jobs.config = replace(platform.jobs.config, celery_broker=url, celery_queue=queue)
    app = make_celery(platform.jobs.config)
    # A heartbeat wakes the worker's event loop regularly, so it stops promptly (AMQP).
    app.conf.broker_heartbeat = 2
    bind_platform(app, platform)
    relay = CeleryRelay(platform, platform.jobs, celery=app)
    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=15
    ):
        yield Transport(name, platform, relay)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)


# -- a real HTTP receiver ---------------------------------------------------------------------


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


# -- a real SMTP server -----------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()
