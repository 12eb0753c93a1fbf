"""explicit current version of each process

Revision ID: 0004_audit_chain
Revises: 0001
Create Date: 2026-12-01 10:00:00

Each process's highest version becomes its current version, as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_audit_chain'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    current = op.create_table('process_current',
    sa.Column('process_id', sa.String(length=64), nullable=False),
    sa.Column('process_version_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['process_version_id'], ['process_version.id'], name=op.f('fk_process_current_process_version_id_process_version')),
    sa.PrimaryKeyConstraint('process_id', name=op.f('pk_process_current'))
    )
    versions = sa.table(
        'process_version',
        sa.column('id', sa.Integer()),
        sa.column('process_id', sa.String()),
        sa.column('version', sa.Integer()),
        sa.column('deployed_at', sa.DateTime(timezone=True)),
    )
    latest = (
        sa.select(versions.c.process_id, sa.func.max(versions.c.version).label('version'))
        .group_by(versions.c.process_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(versions.c.process_id, versions.c.id, versions.c.deployed_at).join(
            latest,
            sa.and_(
                latest.c.process_id == versions.c.process_id,
                latest.c.version == versions.c.version,
            ),
        )
    ).all()
    op.bulk_insert(
        current,
        [
            {'process_id': r.process_id, 'process_version_id': r.id, 'since': r.deployed_at, 'set_by': 'migration'}
            for r in rows
        ],
    )


def downgrade():
    op.drop_table('process_current')
