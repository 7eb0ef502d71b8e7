"""The models' workflow and rule-set documents verify cleanly against their entities and roles,
and their roles, menus, views and dashboards refer to things that exist and queries that run."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from models_support import MODELS, contributions, install

from xrm.core.context import SYSTEM
from xrm.workflow import check_workflow, verify
from xrm.workflow.rules import check_rules, rules_findings

CHART_TYPES = {"funnel", "bar", "line", "pie", "number", "pareto"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """All five models installed on one SQLite file (read-only checks share it)."""
    from xrm import create_app

    folder = tmp_path_factory.mktemp("models")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'xrm.sqlite'}",
            "INSTANCE_PATH": str(folder),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "PLUGINS_ALLOW": MODELS,
            "TESTING": True,
            "FAB_UPDATE_PERMS": False,
        }
    )
    p = install(app, MODELS)
    yield p
    p.engine.dispose()


def _entities(p):
    return {name: ce.definition for name, ce in p.registry.snapshot().entities.items()}


def _roles(p):
    return {r["name"] for r in contributions(p, "xrm_default_roles")} | {"Admin"}


def _action_types(p):
    return {
        t["name"]: {"type": "object", "properties": t["params"], "required": t["required"]}
        for t in contributions(p, "xrm_action_types")
    }


@pytest.mark.parametrize("plugin", MODELS)
def test_workflows_verify_without_findings(models, plugin):
    entities = _entities(models)
    for doc in contributions(models, "xrm_workflows", [plugin]):
        entity = entities[doc["entity"]]
        check_workflow(doc, entity, entities)
        findings = verify(doc, entity, _roles(models), _action_types(models), entities=entities)
        assert [str(f) for f in findings] == [], doc["name"]


@pytest.mark.parametrize("plugin", MODELS)
def test_rule_sets_check_without_findings(models, plugin):
    entities = _entities(models)
    for doc in contributions(models, "xrm_rules", [plugin]):
        check_rules(doc, entities[doc["entity"]])
        findings, _compiled = rules_findings(doc, entities[doc["entity"]])
        assert [str(f) for f in findings] == [], doc["name"]


def test_every_plugin_with_state_fields_ships_workflows(models):
    names = {d["name"] for d in contributions(models, "xrm_workflows")}
    assert {
        "crm.lead_qualification", "crm.opportunity_pipeline", "crm.case_sla",
        "crm.campaign_lifecycle", "vrm.supplier_onboarding", "vrm.agreement_lifecycle",
        "vrm.incident_handling", "srm.concern_resolution", "brm.deal_registration",
        "brm.partner_agreement_lifecycle",
    } <= names  # fmt: skip


def test_workflow_documents_are_installed_and_active(models):
    with models.engine.connect() as conn:
        catalog = models.workflows.catalog(conn)
    text = repr(catalog)
    for doc in contributions(models, "xrm_workflows") + contributions(models, "xrm_rules"):
        assert doc["name"] in text


def test_default_roles_grant_known_actions_on_existing_entities(models):
    entities = _entities(models)
    for role in contributions(models, "xrm_default_roles"):
        for entity, actions in role["permissions"].items():
            assert entity in entities, (role["name"], entity)
            assert set(actions) <= {"read", "create", "update", "delete", "import", "export"}
        for entity, scope in role.get("scopes", {}).items():
            assert entity in role["permissions"], (role["name"], entity)
            assert scope in {"own", "team", "all"}


def test_menus_point_at_existing_entities_views_and_dashboards(models):
    entities = _entities(models)
    views = {v["name"] for v in contributions(models, "xrm_views")}
    dashboards = {d["name"] for d in contributions(models, "xrm_dashboards")}
    for menu in contributions(models, "xrm_menus"):
        for item in menu["items"]:
            ((kind, name),) = item.items()
            known = {"entity": entities, "view": views, "dashboard": dashboards}[kind]
            assert name in known, (menu["name"], item)


def test_shared_views_run_as_queries(models):
    kinds = set()
    with models.engine.connect() as conn:
        for view in contributions(models, "xrm_views"):
            params = dict(parse_qsl(view.get("query", ""), keep_blank_values=True))
            models.records.query(conn, SYSTEM, view["entity"], params)
            ce = models.registry.snapshot().entity(view["entity"])
            fields = set(ce.fields)
            assert set(view.get("columns", [])) <= fields, view["name"]
            if view["kind"] == "kanban":
                assert view["groupBy"] in fields, view["name"]
            kinds.add(view["kind"])
    assert kinds == {"list", "kanban"}


def test_dashboard_charts_group_existing_fields_and_queries_run(models):
    required = {"crm.sales", "crm.service", "vrm.scorecards", "vrm.agreements",
                "srm.power_interest", "brm.partners"}  # fmt: skip
    dashboards = contributions(models, "xrm_dashboards")
    assert required <= {d["name"] for d in dashboards}
    with models.engine.connect() as conn:
        for dashboard in dashboards:
            for chart in dashboard["charts"]:
                assert chart["type"] in CHART_TYPES, chart
                ce = models.registry.snapshot().entity(chart["entity"])
                fields = set(ce.fields) | {"owner_id"}
                if "groupBy" in chart:
                    assert chart["groupBy"] in fields, chart
                if chart["measure"] != "count":
                    fn, field = chart["measure"].split(":")
                    assert fn in {"sum", "avg", "min", "max"} and field in ce.fields, chart
                params = dict(parse_qsl(chart.get("query", ""), keep_blank_values=True))
                models.records.query(conn, SYSTEM, chart["entity"], params)


def test_crm_dashboard_has_funnel_win_rate_pareto_and_activity_per_rep(models):
    (sales,) = [d for d in contributions(models, "xrm_dashboards") if d["name"] == "crm.sales"]
    charts = {(c["type"], c["entity"], c.get("groupBy")) for c in sales["charts"]}
    assert ("funnel", "crm.opportunity", "stage") in charts
    assert ("pie", "crm.opportunity", "stage") in charts  # won vs lost
    assert ("pareto", "crm.opportunity", "account") in charts
    assert ("bar", "crm.activity", "owner_id") in charts
