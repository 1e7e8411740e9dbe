"""incident core

Revision ID: 4faa9d078fc7
Revises: 
Create Date: 2026-11-22 22:41:13.101146
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
import app.db.base

revision: str = '4faa9d078fc7'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('slack_user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('pagerduty_user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('freshdesk_agent_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('email', name=op.f('uq_people_email')),
    sa.UniqueConstraint('freshdesk_agent_id', name=op.f('uq_people_freshdesk_agent_id')),
    sa.UniqueConstraint('pagerduty_user_id', name=op.f('uq_people_pagerduty_user_id')),
    sa.UniqueConstraint('slack_user_id', name=op.f('uq_people_slack_user_id'))
    )
    op.create_table('reference_counters',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_counters'))
    )
    counters = sa.table("reference_counters", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(counters, [{"name": "INC", "value": 0}])
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('slack_channel', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('pagerduty_service_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('pagerduty_escalation_policy_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_api_tokens_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('functionality', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('priority', sa.String(length=4), nullable=False),
    sa.Column('affects_end_users', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('channel_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('slack_channel_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('declared_by_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('mitigation', sa.Text(), nullable=True),
    sa.Column('durable_reason', sa.Text(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('report_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('video_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('notes_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('declared_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('investigating_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mitigated_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('report_completed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('customer_confirmed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('autoclose_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declared_by_id'], ['people.id'], name=op.f('fk_incidents_declared_by_id_people')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['incidents.id'], name=op.f('fk_incidents_duplicate_of_id_incidents')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_incidents_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('channel_name', name=op.f('uq_incidents_channel_name')),
    sa.UniqueConstraint('number', name=op.f('uq_incidents_number'))
    )
    op.create_index(op.f('ix_incidents_declared_at'), 'incidents', ['declared_at'], unique=False)
    op.create_index('ix_incidents_open_lookup', 'incidents', ['service', 'functionality', 'status'], unique=False)
    op.create_index(op.f('ix_incidents_severity'), 'incidents', ['severity'], unique=False)
    op.create_index(op.f('ix_incidents_status'), 'incidents', ['status'], unique=False)
    op.create_index(op.f('ix_incidents_team_id'), 'incidents', ['team_id'], unique=False)
    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_services_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('name', name=op.f('uq_services_name'))
    )
    op.create_index(op.f('ix_services_team_id'), 'services', ['team_id'], unique=False)
    op.create_table('action_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('durable', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_action_items_incident_id_incidents')),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_action_items_owner_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items'))
    )
    op.create_index(op.f('ix_action_items_incident_id'), 'action_items', ['incident_id'], unique=False)
    op.create_table('hypotheses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('test_plan', sa.Text(), nullable=True),
    sa.Column('proposed_fix', sa.Text(), nullable=True),
    sa.Column('fix_started_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signal_expected_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('conclusion', sa.String(length=20), nullable=False),
    sa.Column('conclusion_notes', sa.Text(), nullable=True),
    sa.Column('concluded_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_hypotheses_incident_id_incidents')),
    sa.ForeignKeyConstraint(['parent_id'], ['hypotheses.id'], name=op.f('fk_hypotheses_parent_id_hypotheses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hypotheses'))
    )
    op.create_index(op.f('ix_hypotheses_incident_id'), 'hypotheses', ['incident_id'], unique=False)
    op.create_table('incident_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_links_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_links')),
    sa.UniqueConstraint('kind', 'external_id', name='uq_incident_links_kind')
    )
    op.create_index(op.f('ix_incident_links_incident_id'), 'incident_links', ['incident_id'], unique=False)
    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('occurred_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_milestones_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones'))
    )
    op.create_index(op.f('ix_milestones_incident_id'), 'milestones', ['incident_id'], unique=False)
    op.create_table('role_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('assigned_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('relieved_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_role_assignments_incident_id_incidents')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_role_assignments_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_assignments'))
    )
    op.create_index(op.f('ix_role_assignments_incident_id'), 'role_assignments', ['incident_id'], unique=False)
    op.create_table('timeline_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('occurred_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('edited_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_timeline_entries_author_id_people')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_timeline_entries_incident_id_incidents')),
    sa.ForeignKeyConstraint(['parent_id'], ['timeline_entries.id'], name=op.f('fk_timeline_entries_parent_id_timeline_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_entries')),
    sa.UniqueConstraint('incident_id', 'source', 'external_id', name='uq_timeline_entries_external')
    )
    op.create_index('ix_timeline_entries_incident_time', 'timeline_entries', ['incident_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_timeline_entries_incident_time', table_name='timeline_entries')
    op.drop_table('timeline_entries')
    op.drop_index(op.f('ix_role_assignments_incident_id'), table_name='role_assignments')
    op.drop_table('role_assignments')
    op.drop_index(op.f('ix_milestones_incident_id'), table_name='milestones')
    op.drop_table('milestones')
    op.drop_index(op.f('ix_incident_links_incident_id'), table_name='incident_links')
    op.drop_table('incident_links')
    op.drop_index(op.f('ix_hypotheses_incident_id'), table_name='hypotheses')
    op.drop_table('hypotheses')
    op.drop_index(op.f('ix_action_items_incident_id'), table_name='action_items')
    op.drop_table('action_items')
    op.drop_index(op.f('ix_services_team_id'), table_name='services')
    op.drop_table('services')
    op.drop_index(op.f('ix_incidents_team_id'), table_name='incidents')
    op.drop_index(op.f('ix_incidents_status'), table_name='incidents')
    op.drop_index(op.f('ix_incidents_severity'), table_name='incidents')
    op.drop_index('ix_incidents_open_lookup', table_name='incidents')
    op.drop_index(op.f('ix_incidents_declared_at'), table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('api_tokens')
    op.drop_table('teams')
    op.drop_table('reference_counters')
    op.drop_table('people')
