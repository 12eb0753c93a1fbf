"""audit hash chain; explicit current version of each process

Revision ID: 0004_audit_chain
Revises: 0001
Create Date: 2026-12-01 10:00:00

Existing audit rows are chained in id order at upgrade time, so `audit verify` holds from
then on. Each process's highest version becomes its current version, as before.
"""
from alembic import op
import sqlalchemy as sa

# The hash format is part of the stored data and never changes for rows already written;
# the migration therefore uses the same function the application appends with.
from storage.audit_chain import GENESIS, row_hash


# revision identifiers, used by Alembic.
revision = '0004_audit_chain'
down_revision = '0002_sessions'
branch_labels = None
depends_on = None


def _chain_existing_rows(conn):
    table = sa.Table('audit_event', sa.MetaData(), autoload_with=conn)
    prev, seq = GENESIS, 0
    ids = conn.execute(sa.select(table.c.id).order_by(table.c.id)).scalars().all()
    for row_id in ids:
        row = conn.execute(sa.select(table).where(table.c.id == row_id)).mappings().one()
        seq += 1
        values = dict(row, seq=seq, prev_hash=prev)
        digest = row_hash(values)
        conn.execute(
            table.update().where(table.c.id == row_id).values(seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest
    return seq, prev


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    conn = op.get_bind()
    seq, last_hash = _chain_existing_rows(conn)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])

    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.bulk_insert(head, [{'id': 1, 'seq': seq, 'last_hash': last_hash}])

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
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
