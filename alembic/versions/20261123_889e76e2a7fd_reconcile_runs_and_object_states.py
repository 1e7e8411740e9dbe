"""reconciliation runs and what Relay last saw of each linked object

Revision ID: 889e76e2a7fd
Revises: 52d636521538
Create Date: 2026-11-23 03:39:17.639709
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = '889e76e2a7fd'
down_revision: str | None = '52d636521538'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reconciliation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('running', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('started_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_expires_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_from', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_to', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked', sa.Integer(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('drift_found', sa.Integer(), nullable=False),
    sa.Column('repaired', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('drift', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs')),
    sa.UniqueConstraint('running', name=op.f('uq_reconciliation_runs_running'))
    )
    op.create_index('ix_reconciliation_runs_provider_started', 'reconciliation_runs', ['provider', 'started_at'], unique=False)
    op.create_table('reconciliation_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('desired', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('seen', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('seen_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recheck', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_reconciliation_states_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_states')),
    sa.UniqueConstraint('kind', 'external_id', name='uq_reconciliation_states_object')
    )
    op.create_index(op.f('ix_reconciliation_states_incident_id'), 'reconciliation_states', ['incident_id'], unique=False)
    op.create_index('ix_reconciliation_states_kind_checked', 'reconciliation_states', ['kind', 'checked_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reconciliation_states_kind_checked', table_name='reconciliation_states')
    op.drop_index(op.f('ix_reconciliation_states_incident_id'), table_name='reconciliation_states')
    op.drop_table('reconciliation_states')
    op.drop_index('ix_reconciliation_runs_provider_started', table_name='reconciliation_runs')
    op.drop_table('reconciliation_runs')
