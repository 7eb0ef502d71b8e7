"""The CEL binding's compiled core, without the package's interactive tools.

``import cel`` runs the package's ``__init__``, which also imports its command-line REPL
(typer, rich, prompt_toolkit, pygments): about a quarter of the platform's import time, paid by
every worker at start-up for nothing. The platform uses only the compiled extension
``cel.cel`` (``compile``, ``Context``), so it loads that module alone, under its own name: when
something imports ``cel`` later, the package finds its extension already loaded (a PyO3 module
can be initialised once per process) and imports as usual.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType


def load() -> ModuleType:
    if "cel.cel" in sys.modules:
        return sys.modules["cel.cel"]
    package = importlib.util.find_spec("cel")
    if package is None or not package.submodule_search_locations:
        raise ImportError(
            "the CEL binding is not installed (pip install common-expression-language)"
        )
    spec = importlib.machinery.PathFinder.find_spec("cel", list(package.submodule_search_locations))
    if spec is None:
        raise ImportError("the CEL binding has no compiled extension 'cel.cel'")
    spec.name = "cel.cel"
    module = importlib.util.module_from_spec(spec)
    sys.modules["cel.cel"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["cel.cel"]
        raise
    return module


cel = load()
