"""slack summary ts and team members

Revision ID: 52d636521538
Revises: 3ebfe329e7b7
Create Date: 2026-11-23 02:56:15.186802
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.base

revision: str = '52d636521538'
down_revision: str | None = '3ebfe329e7b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_team_members_person_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams')),
    sa.PrimaryKeyConstraint('team_id', 'person_id', name=op.f('pk_team_members'))
    )
    op.create_index(op.f('ix_team_members_person_id'), 'team_members', ['person_id'], unique=False)
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('slack_summary_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.create_index(op.f('ix_incidents_slack_channel_id'), ['slack_channel_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_index(op.f('ix_incidents_slack_channel_id'))
        batch.drop_column('slack_summary_ts')
    op.drop_index(op.f('ix_team_members_person_id'), table_name='team_members')
    op.drop_table('team_members')
