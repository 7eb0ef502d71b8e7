"""The core's own tables: audit trail, outbox, recycle bin, record scopes, field security,
api tokens, installed plugins, the jobs' run log and schedule, the in-app inbox.

Kept apart from the metadata tables (xrm.metadata.store) because the metadata layer knows
nothing of records. :func:`install` creates them (idempotent); the app factory calls it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..metadata.tables import id_column

CORE_METADATA = sa.MetaData()

#: One row per record write: who, when, what, and each field's old and new value.
audit = sa.Table(
    "xrm_audit",
    CORE_METADATA,
    id_column(),
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
    id_column(),
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
    id_column(),
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


#: Plugins installed through the lifecycle (``xrm plugins install``, the admin API): one row
#: per installed plugin. A loaded plugin without a row is available but not installed.
installed_plugin = sa.Table(
    "xrm_plugin",
    CORE_METADATA,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("installed_at", sa.DateTime, nullable=False),
    sa.Column("installed_by", sa.String(100), nullable=False),
    sa.Column("upgraded_at", sa.DateTime, nullable=True),
    sa.Column("upgraded_by", sa.String(100), nullable=True),
    sa.Column("demo_loaded_at", sa.DateTime, nullable=True),
)

#: One row per attempt at delivering an outbox message (the jobs' run log).
job_run = sa.Table(
    "xrm_job_run",
    CORE_METADATA,
    id_column(),
    sa.Column("job_id", sa.BigInteger, nullable=False),
    sa.Column("topic", sa.String(80), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(120), nullable=False),
    sa.Column("transport", sa.String(20), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("steps", sa.Text, nullable=False, server_default=sa.text("'[]'")),
    sa.Index("ix_xrm_job_run_job", "job_id", "id"),
)

#: Periodic jobs: the last slot started, so one worker among many takes each slot (a lease).
job_schedule = sa.Table(
    "xrm_job_schedule",
    CORE_METADATA,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("every_seconds", sa.Integer, nullable=False),
    sa.Column("slot", sa.BigInteger, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=True),
    sa.Column("worker", sa.String(120), nullable=True),
)

#: The in-app inbox: one row per notification and recipient.
notification = sa.Table(
    "xrm_notification",
    CORE_METADATA,
    id_column(),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("link", sa.String(2000), nullable=True),
    sa.Column("entity", sa.String(60), nullable=True),
    sa.Column("record_id", sa.BigInteger, nullable=True),
    #: The delivering job's idempotency key: a second delivery adds nothing.
    sa.Column("source_key", sa.String(120), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("read_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("source_key", "user_id", name="uq_xrm_notification_source"),
    sa.Index("ix_xrm_notification_inbox", "user_id", "id"),
)


def install(conn: sa.Connection) -> None:
    from .security.accesscache import install as install_access_triggers
    from .workflows.tables import install as install_workflow_tables

    CORE_METADATA.create_all(conn, checkfirst=True)
    install_workflow_tables(conn)
    install_access_triggers(conn)
