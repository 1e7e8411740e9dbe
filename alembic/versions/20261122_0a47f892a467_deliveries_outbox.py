"""deliveries outbox

Revision ID: 0a47f892a467
Revises: 4faa9d078fc7
Create Date: 2026-11-22 22:47:35.155448
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
import app.db.base

revision: str = '0a47f892a467'
down_revision: str | None = '4faa9d078fc7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('depends_on_id', sa.Integer(), nullable=True),
    sa.Column('next_attempt_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_expires_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('request', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['depends_on_id'], ['deliveries.id'], name=op.f('fk_deliveries_depends_on_id_deliveries')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_deliveries_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_deliveries_idempotency_key'))
    )
    op.create_index(op.f('ix_deliveries_depends_on_id'), 'deliveries', ['depends_on_id'], unique=False)
    op.create_index('ix_deliveries_due', 'deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_deliveries_incident_id'), 'deliveries', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_deliveries_incident_id'), table_name='deliveries')
    op.drop_index('ix_deliveries_due', table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_depends_on_id'), table_name='deliveries')
    op.drop_table('deliveries')
