"""Reviewers' hand-offs: 转办 (task_transfer), 委派 (stand_in), 抄送 (application_copy)

Revision ID: 0011_handoffs
Revises: 0010_certificates
Create Date: 2026-12-02 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_handoffs'
down_revision = '0010_certificates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'task_transfer',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('from_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['holder_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['from_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('task_id'),
    )
    op.create_index('ix_task_transfer_instance_id', 'task_transfer', ['instance_id'])
    op.create_index('ix_task_transfer_holder_id', 'task_transfer', ['holder_id'])
    op.create_table(
        'stand_in',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('stand_in_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['stand_in_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_index('ix_stand_in_stand_in_id', 'stand_in', ['stand_in_id'])
    op.create_table(
        'application_copy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['by_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id', 'user_id'),
    )
    op.create_index('ix_application_copy_application_id', 'application_copy', ['application_id'])
    op.create_index('ix_application_copy_user_id', 'application_copy', ['user_id'])


def downgrade():
    op.drop_index('ix_application_copy_user_id', table_name='application_copy')
    op.drop_index('ix_application_copy_application_id', table_name='application_copy')
    op.drop_table('application_copy')
    op.drop_index('ix_stand_in_stand_in_id', table_name='stand_in')
    op.drop_table('stand_in')
    op.drop_index('ix_task_transfer_holder_id', table_name='task_transfer')
    op.drop_index('ix_task_transfer_instance_id', table_name='task_transfer')
    op.drop_table('task_transfer')
