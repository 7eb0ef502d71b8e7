"""Two clients fire a transition on the same record at the same moment, on PostgreSQL with two
connections in two threads: exactly one succeeds, the other gets a clear 409 conflict."""

from __future__ import annotations

import threading

import pytest
from runtime_support import build_env

from xrm.core.plugins import hookimpl
from xrm.core.workflows import TransitionConflict


class BothHaveRead:
    """Holds each firing just before its UPDATE until both have read the record and passed
    every check: the race is forced, not hoped for."""

    def __init__(self):
        self.barrier = threading.Barrier(2, timeout=30)

    @hookimpl
    def xrm_before_transition(self, event):
        if event.transition == "lose":
            self.barrier.wait()


def test_two_simultaneous_firings_give_one_success_and_one_conflict(make_app, backend):
    if backend != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (XRM_TEST_DATABASE=postgresql)")
    env = build_env(make_app, plugins={"race": BothHaveRead()})
    rec = env.create(env.users["rep"], {"name": "ACME", "amount": "10"})
    results: dict[str, object] = {}

    def fire(who: str, reason: str):
        try:
            results[who] = env.fire(
                env.users[who], rec["id"], "lose", comment=who, values={"lost_reason": reason}
            )
        except Exception as exc:  # the assertion below says which
            results[who] = exc

    threads = [threading.Thread(target=fire, args=(w, f"by {w}")) for w in ("rep", "manager")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["TransitionConflict", "dict"], results
    winner = next(w for w, r in results.items() if isinstance(r, dict))
    loser = next(r for r in results.values() if isinstance(r, TransitionConflict))
    assert loser.status == 409 and "changed while 'lose' was being fired" in str(loser)
    stored = env.get(rec["id"])
    assert stored["lost_reason"] == f"by {winner}" and stored["row_version"] == 2
    with env.tx() as conn:
        history = env.records.history(conn, env.users["admin"], "sales.opportunity", rec["id"])
    assert [h["transition"]["comment"] for h in history if "transition" in h] == [winner]
