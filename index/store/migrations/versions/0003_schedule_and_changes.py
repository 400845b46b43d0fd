"""schedule and changes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('resource_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawl_runs.id'], ),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('resource_changes', schema=None) as batch_op:
        batch_op.create_index('ix_change_time', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_changes_crawl_run_id'), ['crawl_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_changes_resource_id'), ['resource_id'], unique=False)

    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='full'))
        batch_op.add_column(sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))

    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_probe_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('consecutive_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('failing_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('retired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_resources_next_probe_at'), ['next_probe_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resources_next_probe_at'))
        batch_op.drop_column('retired_at')
        batch_op.drop_column('failing_since')
        batch_op.drop_column('consecutive_failures')
        batch_op.drop_column('next_probe_at')

    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_column('before')
        batch_op.drop_column('changes')
        batch_op.drop_column('kind')

    with op.batch_alter_table('resource_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_changes_resource_id'))
        batch_op.drop_index(batch_op.f('ix_resource_changes_crawl_run_id'))
        batch_op.drop_index('ix_change_time')

    op.drop_table('resource_changes')
