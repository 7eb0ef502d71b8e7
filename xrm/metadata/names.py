"""Naming rules shared by definitions, tables and columns.

Entity names are namespaced (``crm.contact``); the table is ``crm_contact``. Namespaces have no
underscore, so the mapping back is unambiguous. Identifiers longer than PostgreSQL's 63 bytes are
shortened with a stable hash suffix.
"""

from __future__ import annotations

import hashlib
import re

ENTITY_NAME = re.compile(r"^[a-z][a-z0-9]{1,15}\.[a-z][a-z0-9_]{0,39}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ENTITY_NAME_PATTERN = ENTITY_NAME.pattern
FIELD_NAME_PATTERN = FIELD_NAME.pattern

#: Namespaces the platform keeps for itself (``ab`` is Flask-AppBuilder's table prefix).
RESERVED_NAMESPACES = frozenset({"xrm", "ab", "sys", "pg", "sqlite", "alembic"})

#: System columns present on every entity table.
SYSTEM_COLUMNS = (
    "id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner_id",
    "row_version",
    "deleted_at",
)
RESERVED_FIELD_NAMES = frozenset(SYSTEM_COLUMNS) | {"select", "order", "limit", "offset"}
ARCHIVE_PREFIX = "xa_"
MAX_IDENTIFIER = 63


def table_name(entity: str) -> str:
    """``crm.contact`` -> ``crm_contact``."""
    return entity.replace(".", "_", 1)


def namespace(entity: str) -> str:
    return entity.split(".", 1)[0]


def short_identifier(*parts: str) -> str:
    """Join parts with ``_``; if longer than 63 characters, cut and add a stable hash."""
    name = "_".join(parts)
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER - 9]}_{digest}"


def association_table_name(entity: str, field: str) -> str:
    return short_identifier(table_name(entity) + "_", field)


def index_name(table: str, columns: list[str] | tuple[str, ...], unique: bool = False) -> str:
    return short_identifier("uq" if unique else "ix", table, *columns)


def archive_column_name(column: str, version: int) -> str:
    """Name of an archived (hidden, restorable) column."""
    return short_identifier(f"{ARCHIVE_PREFIX}{version}", column)
