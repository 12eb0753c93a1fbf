"""Worklist indexes: an org's queue, by task name, and an account's tasks, each in
(created_at, id) order, so a worklist reads one page and counts from the index alone; an
instance's pending timers; an org's decisions at a task

Revision ID: 0013_worklist_indexes
Revises: 0012_committee
Create Date: 2026-12-02 10:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_worklist_indexes'
down_revision = '0012_committee'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_human_task_org_queue',
        'human_task',
        ['org_id', 'lane', 'created_at', 'id', 'process_id'],
    )
    op.create_index(
        'ix_human_task_org_name_queue',
        'human_task',
        ['org_id', 'name', 'lane', 'created_at', 'id'],
    )
    op.create_index(
        'ix_human_task_user_queue', 'human_task', ['user_id', 'lane', 'created_at', 'id']
    )
    # An instance's pending timers (read on every save), an org's decisions at a task.
    op.create_index('ix_timer_instance_status', 'timer', ['instance_id', 'status'])
    op.create_index('ix_audit_event_org_task', 'audit_event', ['org_id', 'task_name', 'at'])
    # Their leading columns serve every query these served.
    op.drop_index('ix_human_task_org_name', table_name='human_task')
    op.drop_index('ix_human_task_user_id', table_name='human_task')


def downgrade():
    op.drop_index('ix_audit_event_org_task', table_name='audit_event')
    op.drop_index('ix_timer_instance_status', table_name='timer')
    op.create_index('ix_human_task_user_id', 'human_task', ['user_id'])
    op.create_index('ix_human_task_org_name', 'human_task', ['org_id', 'name'])
    op.drop_index('ix_human_task_user_queue', table_name='human_task')
    op.drop_index('ix_human_task_org_name_queue', table_name='human_task')
    op.drop_index('ix_human_task_org_queue', table_name='human_task')
