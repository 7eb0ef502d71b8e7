"""Handler registration and resolution by topic (no database)."""

from __future__ import annotations

import pytest

from xrm.core.jobs import JobRegistry, create_job_registry


def test_an_exact_topic_wins_over_a_prefix_and_the_longest_prefix_wins():
    jobs = JobRegistry()

    def a(ctx, job): ...
    def b(ctx, job): ...
    def c(ctx, job): ...

    jobs.handler("automation.*")(a)
    jobs.handler("automation.sla.*")(b)
    jobs.handler("automation.run")(c)
    assert jobs.resolve("automation.run") is c
    assert jobs.resolve("automation.sla.breach") is b
    assert jobs.resolve("automation.other") is a
    assert jobs.resolve("automationx") is None
    assert jobs.resolve("record.created") is None


@pytest.mark.parametrize("topic", ["", "Action.x", "action.", "action*", "a b", "action.*.x"])
def test_an_invalid_topic_is_refused(topic):
    with pytest.raises(ValueError, match="invalid job topic"):
        JobRegistry().handler(topic)


def test_a_topic_has_one_handler():
    jobs = JobRegistry()
    jobs.handler("x.y")(lambda ctx, job: None)
    with pytest.raises(ValueError, match="already registered"):
        jobs.handler("x.y")(lambda ctx, job: None)


def test_a_periodic_job_is_delivered_as_its_own_topic():
    jobs = JobRegistry()

    @jobs.periodic("workflow.timers", every_seconds=60)
    def timers(ctx, job): ...

    assert jobs.resolve("periodic.workflow.timers") is timers
    assert jobs.periodics["workflow.timers"].every_seconds == 60
    with pytest.raises(ValueError, match="every_seconds must be at least 1"):
        jobs.periodic("too.often", every_seconds=0)


def test_the_built_in_actions_are_registered():
    jobs = create_job_registry()
    assert {"action.webhook", "action.email", "action.notify", "action.*"} <= set(jobs.topics())
    assert jobs.resolve("action.crm.sendQuote") is jobs.resolve("action.anything")
    assert jobs.resolve("action.webhook") is not jobs.resolve("action.anything")
