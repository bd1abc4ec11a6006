"""poster curation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('poster_curation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'kind', name='uq_poster_curation_team'),
    sa.UniqueConstraint('run_id', 'kind', name='uq_poster_curation_run')
    )
    with op.batch_alter_table('poster_curation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poster_curation_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_poster_curation_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('poster_curation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poster_curation_run_id'))
        batch_op.drop_index(batch_op.f('ix_poster_curation_team_id'))

    op.drop_table('poster_curation')
