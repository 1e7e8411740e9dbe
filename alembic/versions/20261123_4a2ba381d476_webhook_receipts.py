"""webhook receipts

Revision ID: 4a2ba381d476
Revises: 0a47f892a467
Create Date: 2026-11-23 02:44:08.732099
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
import app.db.base

revision: str = '4a2ba381d476'
down_revision: str | None = '0a47f892a467'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('received_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_webhook_receipts_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_receipts')),
    sa.UniqueConstraint('provider', 'dedupe_key', name='uq_webhook_receipts_dedupe')
    )
    op.create_index(op.f('ix_webhook_receipts_incident_id'), 'webhook_receipts', ['incident_id'], unique=False)
    op.create_index('ix_webhook_receipts_provider_time', 'webhook_receipts', ['provider', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_receipts_provider_time', table_name='webhook_receipts')
    op.drop_index(op.f('ix_webhook_receipts_incident_id'), table_name='webhook_receipts')
    op.drop_table('webhook_receipts')
