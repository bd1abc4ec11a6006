"""results links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('results_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('results_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_results_link_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_results_link_token_hash'), ['token_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('results_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_link_token_hash'))
        batch_op.drop_index(batch_op.f('ix_results_link_run_id'))

    op.drop_table('results_link')
