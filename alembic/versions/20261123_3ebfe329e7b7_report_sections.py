"""report sections: what the team writes in an incident report

Revision ID: 3ebfe329e7b7
Revises: dd7724fa5a55
Create Date: 2026-11-23 02:53:14.727179
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.base

revision: str = '3ebfe329e7b7'
down_revision: str | None = 'dd7724fa5a55'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incident_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('contributing_factors', sa.Text(), nullable=True),
    sa.Column('went_well', sa.Text(), nullable=True),
    sa.Column('went_badly', sa.Text(), nullable=True),
    sa.Column('lessons', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_reports_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_reports')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_incident_reports_incident_id'))
    )


def downgrade() -> None:
    op.drop_table('incident_reports')
