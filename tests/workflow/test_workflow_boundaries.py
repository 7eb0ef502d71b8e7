"""The workflow engine sits below the core and the web layer: it imports neither, nor Flask."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import xrm.workflow, xrm.workflow.rules
bad = sorted(
    m for m in sys.modules
    if m.split(".")[0] in ("flask", "flask_appbuilder", "werkzeug")
    or m.startswith(("xrm.core", "xrm.web", "xrm.app", "xrm.cli"))
)
print(",".join(bad))
"""


def test_importing_the_workflow_engine_loads_no_flask_core_or_web_module():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
