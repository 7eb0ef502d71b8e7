"""Driving schemathesis by hand: each operation's Hypothesis strategy, bounded and
deterministic, every answer checked against the live OpenAPI document.

schemathesis' own pytest integration (``from_fixture``/``parametrize``) does not run under
pytest 9, hence this loop, shared by the API's and the jobs' conformance tests. schemathesis
and Hypothesis are imported when called, so importing this module never needs them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def conformance_failures(
    schema: Any, headers: dict, checks: Sequence[Any], runs: Iterable[tuple[Any, int]]
) -> list[str]:
    """Call every operation of ``schema`` with generated cases, for each (generation mode,
    number of examples) of ``runs``; return one message per operation that failed a check."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable

    failures = []
    for mode, examples in runs:
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def check(case):
                case.call_and_validate(headers=headers, checks=checks)

            try:
                check()
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{mode.name} {operation.label}:\n{exc}")
    return failures
