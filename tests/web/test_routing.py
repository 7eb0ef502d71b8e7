"""URL rules compile their URL builders lazily, and url_for still builds every kind of URL."""

from flask import url_for

from xrm.web.routing import LazyBuildRule


def test_the_application_uses_lazy_rules_and_builds_urls_with_arguments(app):
    assert app.url_rule_class is LazyBuildRule
    with app.test_request_context():
        assert url_for("static", filename="x.css") == "/static/x.css"
        rule = next(r for r in app.url_map.iter_rules() if r.arguments)
        values = {name: 7 for name in rule.arguments}
        built = url_for(rule.endpoint, **values, extra="a b")
        assert "7" in built
        assert built.endswith("extra=a+b")
        # the second build reuses the compiled builder and gives the same URL
        assert url_for(rule.endpoint, **values, extra="a b") == built
