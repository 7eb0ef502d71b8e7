"""The workflow runtime's tables: workflow and rule-set documents with their full history,
approvals, the time-in-state log and the automation run log.

Installed with the core tables (:func:`xrm.core.tables.install` calls :func:`install`).
"""

from __future__ import annotations

import sqlalchemy as sa

from ...metadata.tables import id_column

WORKFLOW_METADATA = sa.MetaData()


#: The current version of every workflow (kind ``workflow``) and rule set (kind ``rules``).
document = sa.Table(
    "xrm_wf_document",
    WORKFLOW_METADATA,
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("entity", sa.String(60), nullable=False, index=True),
    #: ``admin`` or ``plugin:<name>``.
    sa.Column("source", sa.String(80), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=True),
)

#: Every revision ever saved (a removed document leaves a revision with ``document`` NULL).
document_history = sa.Table(
    "xrm_wf_document_history",
    WORKFLOW_METADATA,
    id_column(),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("source", sa.String(80), nullable=False),
    sa.Column("document", sa.Text, nullable=True),
    #: The state mapping applied and how many records moved (JSON), for workflows.
    sa.Column("moved", sa.Text, nullable=True),
    sa.Column("saved_at", sa.DateTime, nullable=False),
    sa.Column("saved_by", sa.String(100), nullable=True),
    sa.Index("ix_xrm_wf_document_history_name", "kind", "name", "id"),
)

#: Approvals given for a transition of a record; deleted when the record changes state.
approval = sa.Table(
    "xrm_wf_approval",
    WORKFLOW_METADATA,
    id_column(),
    sa.Column("entity", sa.String(60), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("workflow", sa.String(80), nullable=False),
    sa.Column("transition", sa.String(40), nullable=False),
    sa.Column("step", sa.String(40), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ix_xrm_wf_approval_record", "entity", "record_id"),
)

#: One row per stay of a record in a state: when it entered and left, and which timers fired.
state_log = sa.Table(
    "xrm_wf_state_log",
    WORKFLOW_METADATA,
    id_column(),
    sa.Column("entity", sa.String(60), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("workflow", sa.String(80), nullable=False),
    sa.Column("state", sa.String(255), nullable=False),
    sa.Column("entered_at", sa.DateTime, nullable=False),
    sa.Column("left_at", sa.DateTime, nullable=True),
    sa.Column("seconds", sa.Float, nullable=True),
    #: The transition that entered the state (NULL: created there, or moved by a new version).
    sa.Column("transition", sa.String(40), nullable=True),
    sa.Column("actor_id", sa.Integer, nullable=True),
    #: JSON list of the timers that fired during this stay.
    sa.Column("timers_fired", sa.Text, nullable=False, server_default=sa.text("'[]'")),
    sa.Index("ix_xrm_wf_state_log_record", "entity", "record_id", "id"),
    sa.Index("ix_xrm_wf_state_log_open", "left_at", "workflow"),
    # The open stay of a record in a workflow, which every transition closes: without it the
    # lookup walks every past stay of the record (SQLite picks the index above), so a record
    # with a long history made each transition slower.
    sa.Index("ix_xrm_wf_state_log_stay", "entity", "record_id", "workflow", "left_at"),
)

#: Every automation run, with its steps (JSON) and outcome.
automation_run = sa.Table(
    "xrm_wf_automation_run",
    WORKFLOW_METADATA,
    id_column(),
    sa.Column("rules", sa.String(80), nullable=False),
    sa.Column("automation", sa.String(40), nullable=False),
    sa.Column("entity", sa.String(60), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=True),
    sa.Column("trigger", sa.String(20), nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("steps", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Index("ix_xrm_wf_automation_run_record", "entity", "record_id"),
)

#: Schedules already run (cron automations): one row per automation and due minute.
schedule_mark = sa.Table(
    "xrm_wf_schedule_mark",
    WORKFLOW_METADATA,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
)


#: Indexes added after their table was first released: created on databases that lack them.
_LATER_INDEXES = ("ix_xrm_wf_state_log_stay",)


def install(conn: sa.Connection) -> None:
    WORKFLOW_METADATA.create_all(conn, checkfirst=True)
    for ix in state_log.indexes:
        if ix.name in _LATER_INDEXES:
            ix.create(conn, checkfirst=True)
