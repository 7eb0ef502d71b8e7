"""Saved views: named list or board configurations of one entity (columns, query, grouping),
personal or shared, stored in ``xrm_saved_view``; plugins ship shared views through the
``xrm_views`` hook. See :mod:`.store`."""

from .store import SavedViewError, create_view, delete_view, install, list_views, update_view

__all__ = ["SavedViewError", "create_view", "delete_view", "install", "list_views", "update_view"]
