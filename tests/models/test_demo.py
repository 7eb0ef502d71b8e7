"""Demo data: realistic volumes in every later workflow state, the same on every run."""

from __future__ import annotations

import sqlalchemy as sa
from models_support import MODELS, install, load_demo

from xrm.core.context import SYSTEM

OPEN = ("prospecting", "qualification", "proposal", "negotiation")


def _count(p, conn, entity, **filters):
    return len(
        p.records.query(
            conn, SYSTEM, entity, {**{k: v for k, v in filters.items()}, "limit": "1000"}
        )
    ) if filters else conn.execute(
        sa.select(sa.func.count()).select_from(p.registry.snapshot().entity(entity).table)
    ).scalar()  # fmt: skip


def test_demo_data_has_realistic_volumes_across_workflow_states(make_app):
    p = install(make_app(allow=MODELS), MODELS)
    load_demo(p, MODELS)
    with p.engine.connect() as conn:
        counts = {e: _count(p, conn, e) for e in p.registry.snapshot().entities}
        opportunities = p.records.query(conn, SYSTEM, "crm.opportunity", {"limit": "1000"})
        stages = {o["stage"] for o in opportunities}
        leads = {
            lead["status"] for lead in p.records.query(conn, SYSTEM, "crm.lead", {"limit": "1000"})
        }
        registrations = {
            r["status"]
            for r in p.records.query(conn, SYSTEM, "brm.deal_registration", {"limit": "1000"})
        }
        suppliers = {
            s["status"] for s in p.records.query(conn, SYSTEM, "vrm.supplier", {"limit": "1000"})
        }
        quadrants = {
            s["quadrant"]
            for s in p.records.query(conn, SYSTEM, "srm.stakeholder", {"limit": "1000"})
        }
        multi_role = conn.execute(
            sa.text(
                "SELECT count(*) FROM crm_account a JOIN vrm_supplier s "
                "ON s.organization = a.organization"
            )
        ).scalar()
    assert counts["party.organization"] >= 400 and counts["party.person"] >= 700
    assert counts["crm.account"] >= 250 and counts["crm.contact"] >= 400
    assert counts["crm.opportunity"] >= 240 and counts["crm.activity"] >= 600
    assert counts["crm.lead"] == 120 and counts["crm.case"] == 100
    assert counts["crm.campaign_member"] >= 200
    assert counts["vrm.supplier"] == 70 and counts["vrm.evaluation"] >= 150
    assert counts["vrm.agreement"] >= 60 and counts["vrm.incident"] >= 20
    assert counts["srm.stakeholder"] >= 90 and counts["srm.shareholding"] >= 30
    assert counts["srm.engagement"] == 220 and counts["srm.concern"] == 45
    assert counts["brm.partner"] == 30 and counts["brm.deal_registration"] == 90
    assert counts["brm.partner_performance"] >= 90
    assert stages == {*OPEN, "won", "lost"}
    assert leads == {"new", "contacted", "qualified", "converted", "disqualified"}
    assert {"submitted", "approved", "rejected", "won", "lost"} <= registrations
    assert suppliers == {"applied", "under_review", "approved", "rejected", "blocked"}
    assert len(quadrants) == 4
    assert multi_role > 0  # organisations that are customers and suppliers at once


SMALL = {
    "xrm_party.demo_data": {"COMPANIES": 60, "OTHERS_PER_KIND": 3},
    "xrm_crm.demo_data": {"ACCOUNTS": 40, "LEADS": 20, "OPPORTUNITIES": 30, "CASES": 12,
                          "ACTIVITIES": 40, "MEMBERS": 10},
    "xrm_vrm.demo_data": {"SUPPLIERS": 10},
    "xrm_brm.demo_data": {"PARTNERS": 6, "REGISTRATIONS": 12},
}  # fmt: skip


def _snapshot_of(p) -> dict[str, list[dict]]:
    """Every record of every entity, without the times of writing (``created_at``, times a
    transition stamps with ``now``): those are kept to the day."""
    out = {}
    with p.engine.connect() as conn:
        for entity in sorted(p.registry.snapshot().entities):
            rows = p.records.query(conn, SYSTEM, entity, {"order": "id", "limit": "1000"})
            out[entity] = [
                {
                    k: (v[:10] if isinstance(v, str) and len(v) > 19 and v[10:11] == "T" else v)
                    for k, v in row.items()
                    if k not in ("created_at", "updated_at", "row_version")
                }
                for row in rows
            ]
    return out


def test_demo_data_is_identical_on_two_runs(make_app, monkeypatch, other_database_url):
    import importlib

    for module, values in SMALL.items():
        mod = importlib.import_module(module)
        for name, value in values.items():
            monkeypatch.setattr(mod, name, value)
    first = install(make_app(allow=MODELS), MODELS)
    load_demo(first, MODELS, seed=7)
    second = install(make_app(allow=MODELS, DATABASE_URL=other_database_url), MODELS)
    load_demo(second, MODELS, seed=7)
    a, b = _snapshot_of(first), _snapshot_of(second)
    assert sum(len(v) for v in a.values()) > 500
    for entity in a:
        assert a[entity] == b[entity], entity


def test_init_with_demo_loads_every_model_as_the_run_command_does(make_app):
    """``scripts/run.sh`` runs ``xrm init --demo``: the plugins are installed, the administrator
    is created, and the demo is loaded as that administrator, who holds none of the business
    roles the demo's transitions ask for (they are taken by the system)."""
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from xrm.cli import main

    apps = []

    def create():
        apps.append(make_app(allow=MODELS))
        return apps[-1]

    res = CliRunner().invoke(
        main, ["init", "--admin-password", "pw-for-tests-only", "--demo"],
        obj=ScriptInfo(create_app=create),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    for name in MODELS:
        assert f"demo data of {name} loaded" in res.output
    p = apps[-1].extensions["xrm"]
    with p.engine.connect() as conn:
        campaigns = p.records.query(conn, SYSTEM, "crm.campaign", {"limit": "100"})
        admin_id = conn.execute(
            sa.text("SELECT id FROM ab_user WHERE username = 'admin'")
        ).scalar_one()
    assert {"active", "completed"} <= {c["status"] for c in campaigns}
    assert {c["created_by"] for c in campaigns} == {admin_id}
