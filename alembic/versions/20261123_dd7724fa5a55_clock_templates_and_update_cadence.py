"""clock templates and update cadence

Revision ID: dd7724fa5a55
Revises: 933546e24775
Create Date: 2026-11-23 02:53:59.230483
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.base

revision: str = 'dd7724fa5a55'
down_revision: str | None = '933546e24775'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('name', 'audience', name='uq_message_templates_name_audience')
    )
    op.add_column('incidents', sa.Column('last_internal_update_at', app.db.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('incidents', sa.Column('last_external_update_at', app.db.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('incidents', sa.Column('retrospective_at', app.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('incidents', 'retrospective_at')
    op.drop_column('incidents', 'last_external_update_at')
    op.drop_column('incidents', 'last_internal_update_at')
    op.drop_table('message_templates')
