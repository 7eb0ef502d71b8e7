"""The core's own tables: audit trail, outbox, recycle bin, record scopes and field security.

Kept apart from the metadata tables (xrm.metadata.store) because the metadata layer knows
nothing of records. :func:`install` creates them (idempotent); the app factory calls it.
"""

from __future__ import annotations

import sqlalchemy as sa

CORE_METADATA = sa.MetaData()

#: One row per record write: who, when, what, and each field's old and new value.
audit = sa.Table(
    "xrm_audit",
    CORE_METADATA,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("entity", sa.String(60), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("actor_id", sa.Integer, nullable=True),
    sa.Column("actor_name", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("changes", sa.Text, nullable=False),
    sa.Index("ix_xrm_audit_record", "entity", "record_id", "id"),
    sa.Index("ix_xrm_audit_at", "at"),
)

#: Transactional outbox: written in the same transaction as the change it announces.
outbox = sa.Table(
    "xrm_outbox",
    CORE_METADATA,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("topic", sa.String(80), nullable=False),
    sa.Column("entity", sa.String(60), nullable=True),
    sa.Column("record_id", sa.BigInteger, nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("available_at", sa.DateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("status", sa.String(20), nullable=False, server_default=sa.text("'pending'")),
    sa.Column("dispatched_at", sa.DateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_xrm_outbox_pending", "status", "available_at"),
)

#: Deleted records (soft-deleted rows of entity tables) and what was deleted with them.
recycle_bin = sa.Table(
    "xrm_recycle_bin",
    CORE_METADATA,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("batch", sa.String(36), nullable=False, index=True),
    sa.Column("entity", sa.String(60), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("root", sa.Boolean, nullable=False),
    sa.Column("deleted_at", sa.DateTime, nullable=False),
    sa.Column("deleted_by", sa.Integer, nullable=True),
    sa.Column("title", sa.String(255), nullable=True),
    sa.UniqueConstraint("entity", "record_id", name="uq_xrm_recycle_bin_record"),
)

#: Record scope per role and entity: "own", "team" or "all" (default when no row: all).
record_scope = sa.Table(
    "xrm_record_scope",
    CORE_METADATA,
    sa.Column("role", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(60), primary_key=True),
    sa.Column("scope", sa.String(10), nullable=False),
)

#: Field-level security: a field with any row here is secured; only the listed roles read/write it.
field_permission = sa.Table(
    "xrm_field_permission",
    CORE_METADATA,
    sa.Column("role", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(60), primary_key=True),
    sa.Column("field", sa.String(60), primary_key=True),
    sa.Column("can_read", sa.Boolean, nullable=False),
    sa.Column("can_write", sa.Boolean, nullable=False),
)

#: Personal API tokens (only a hash of the secret is kept).
api_token = sa.Table(
    "xrm_api_token",
    CORE_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=True),
    sa.Column("last_used_at", sa.DateTime, nullable=True),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)


def install(conn: sa.Connection) -> None:
    CORE_METADATA.create_all(conn, checkfirst=True)
