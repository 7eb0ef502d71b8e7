"""URL rules whose URL builders compile on first use.

Werkzeug compiles two URL-building functions per rule (``ast`` + ``compile``) when the rule is
added. Flask-AppBuilder and the xRM API add a few hundred rules, most of which no ``url_for``
ever builds, so eager compilation was the largest single cost of creating an application. The
builders here are compiled the first time a URL is built from the rule, then kept.
"""

from __future__ import annotations

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    """A Werkzeug rule that compiles its URL builders when ``url_for`` first needs them."""

    def _compile_builder(self, append_unknown: bool = True):
        compile_now = super()._compile_builder
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                compiled = compile_now(append_unknown).__get__(rule, None)
            return compiled(*args, **kwargs)

        return build
