"""test buys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('test_buys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('x402_version', sa.Integer(), nullable=True),
    sa.Column('option_position', sa.Integer(), nullable=True),
    sa.Column('scheme', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('asset', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('amount_atomic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('amount_usd', sa.Float(), nullable=True),
    sa.Column('pay_to', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('payer', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('valid_before', sa.Integer(), nullable=True),
    sa.Column('payment_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('response_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('response_size', sa.Integer(), nullable=True),
    sa.Column('tx', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('receipt', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('test_buys', schema=None) as batch_op:
        batch_op.create_index('ix_test_buy_time', ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_test_buys_resource_id'), ['resource_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('test_buys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_buys_resource_id'))
        batch_op.drop_index('ix_test_buy_time')

    op.drop_table('test_buys')
