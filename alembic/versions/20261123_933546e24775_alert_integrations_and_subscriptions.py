"""alert integrations and subscriptions

Revision ID: 933546e24775
Revises: ca0c4543986a
Create Date: 2026-11-23 02:54:52.776888
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
import app.db.base

revision: str = '933546e24775'
down_revision: str | None = 'ca0c4543986a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('event_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('secret_prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('signing_secret', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('dead_in_a_row', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_success_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('alert_integrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('secret_prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('signing_secret', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_event_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_alert_integrations_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_integrations')),
    sa.UniqueConstraint('key', name=op.f('uq_alert_integrations_key'))
    )


def downgrade() -> None:
    op.drop_table('alert_integrations')
    op.drop_table('webhook_subscriptions')
