"""A small CRM to import into and export from, on the real test database (SQLite or
PostgreSQL)."""

from __future__ import annotations

import pytest
from transfer_support import ACCOUNT, CONTACT, TAG, Crm


@pytest.fixture
def crm(registry) -> Crm:
    registry.apply_documents([ACCOUNT, TAG, CONTACT])
    return Crm(registry)
