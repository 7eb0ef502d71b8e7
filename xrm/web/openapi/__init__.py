"""The live OpenAPI 3.1 document of the REST API and the browsable API page.

:func:`build_document` is the pure generator (a metadata snapshot in, a document out);
:mod:`.routes` adds ``/api/v1/openapi.json`` and ``/api/v1/docs`` to the API blueprint.
"""

from __future__ import annotations

from .document import build_document

__all__ = ["build_document"]
