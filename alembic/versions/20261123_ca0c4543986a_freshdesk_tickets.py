"""freshdesk tickets

Revision ID: ca0c4543986a
Revises: 4a2ba381d476
Create Date: 2026-11-23 02:53:22.673495
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.base

revision: str = 'ca0c4543986a'
down_revision: str | None = '4a2ba381d476'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('freshdesk_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('requester_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('requester_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('ticket_updated_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_freshdesk_tickets_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_freshdesk_tickets')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_freshdesk_tickets_ticket_id'))
    )
    op.create_index(op.f('ix_freshdesk_tickets_incident_id'), 'freshdesk_tickets', ['incident_id'], unique=False)
    op.create_index(op.f('ix_freshdesk_tickets_state'), 'freshdesk_tickets', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_freshdesk_tickets_state'), table_name='freshdesk_tickets')
    op.drop_index(op.f('ix_freshdesk_tickets_incident_id'), table_name='freshdesk_tickets')
    op.drop_table('freshdesk_tickets')
