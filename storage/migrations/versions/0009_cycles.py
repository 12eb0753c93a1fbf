"""annual cycles (申报年度): review_cycle, application.cycle_id

Revision ID: 0009_cycles
Revises: 0008_names
Create Date: 2026-12-02 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_cycles'
down_revision = '0008_names'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['process_version.id'], name=op.f('fk_review_cycle_version_id_process_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_cycle'))
    )
    with op.batch_alter_table('review_cycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_cycle_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_cycle_status'), ['status'], unique=False)

    # Nothing refers to application, so SQLite may copy it to add the foreign key.
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_application_cycle_id_review_cycle'), 'review_cycle', ['cycle_id'], ['id'])


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_application_cycle_id_review_cycle'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_application_cycle_id'))
        batch_op.drop_column('cycle_id')

    with op.batch_alter_table('review_cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_cycle_status'))
        batch_op.drop_index(batch_op.f('ix_review_cycle_committee_id'))

    op.drop_table('review_cycle')
