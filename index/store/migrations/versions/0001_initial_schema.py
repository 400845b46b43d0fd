"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('stats', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('origins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('favicon', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('origins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_origins_slug'), ['slug'], unique=True)
        batch_op.create_index(batch_op.f('ix_origins_url'), ['url'], unique=True)

    op.create_table('doc_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('extracted', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['origin_id'], ['origins.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_pages_origin_id'), ['origin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_pages_url'), ['url'], unique=True)

    op.create_table('resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin_id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('last_probed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('x402_version', sa.Integer(), nullable=True),
    sa.Column('resource_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('mime_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('service_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('hints', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('findings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('last_paid_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_good_observation_id', sa.Integer(), nullable=True),
    sa.Column('sources', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['origin_id'], ['origins.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url', 'method', name='uq_resource_url_method')
    )
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resources_origin_id'), ['origin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resources_slug'), ['slug'], unique=True)
        batch_op.create_index(batch_op.f('ix_resources_url'), ['url'], unique=False)

    op.create_table('observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('observed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('final_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('robots', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('x402_version', sa.Integer(), nullable=True),
    sa.Column('raw_headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw_body', sa.Text(), nullable=True),
    sa.Column('parsed', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('findings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawl_runs.id'], ),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index('ix_observation_resource_time', ['resource_id', 'observed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_crawl_run_id'), ['crawl_run_id'], unique=False)

    op.create_table('payment_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('scheme', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('network_caip2', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('asset', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pay_to', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('amount_atomic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('max_timeout_seconds', sa.Integer(), nullable=True),
    sa.Column('mime_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('resource_id', 'position', name='uq_option_position')
    )
    with op.batch_alter_table('payment_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_options_network_caip2'), ['network_caip2'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_options_resource_id'), ['resource_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payment_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_options_resource_id'))
        batch_op.drop_index(batch_op.f('ix_payment_options_network_caip2'))

    op.drop_table('payment_options')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observations_crawl_run_id'))
        batch_op.drop_index('ix_observation_resource_time')

    op.drop_table('observations')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resources_url'))
        batch_op.drop_index(batch_op.f('ix_resources_slug'))
        batch_op.drop_index(batch_op.f('ix_resources_origin_id'))

    op.drop_table('resources')
    with op.batch_alter_table('doc_pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_pages_url'))
        batch_op.drop_index(batch_op.f('ix_doc_pages_origin_id'))

    op.drop_table('doc_pages')
    with op.batch_alter_table('origins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_origins_url'))
        batch_op.drop_index(batch_op.f('ix_origins_slug'))

    op.drop_table('origins')
    op.drop_table('crawl_runs')
