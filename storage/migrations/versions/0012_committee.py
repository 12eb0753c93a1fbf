"""The committee's review: expert profiles, review sessions, recusals, the secret ballot

Revision ID: 0012_committee
Revises: 0011_handoffs
Create Date: 2026-12-02 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_committee'
down_revision = '0011_handoffs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'expert_profile',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('office_org_id', sa.String(length=64), nullable=False),
        sa.Column('specialty', sa.String(length=100), nullable=True),
        sa.Column('unit_credit_code', sa.String(length=18), nullable=True),
        sa.Column('relations', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['office_org_id'], ['org.id']),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_index('ix_expert_profile_office_org_id', 'expert_profile', ['office_org_id'])
    op.create_table(
        'review_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('committee_id', sa.String(length=64), nullable=False),
        sa.Column('office_org_id', sa.String(length=64), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('votes_expected', sa.Integer(), nullable=False),
        sa.Column('votes_cast', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tallied_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['cycle_id'], ['review_cycle.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_review_session_cycle_id', 'review_session', ['cycle_id'])
    op.create_index('ix_review_session_office_org_id', 'review_session', ['office_org_id'])
    op.create_table(
        'session_expert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('chosen_by', sa.String(length=8), nullable=False),
        sa.Column('present', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['review_session.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id', 'user_id'),
    )
    op.create_index('ix_session_expert_session_id', 'session_expert', ['session_id'])
    op.create_index('ix_session_expert_user_id', 'session_expert', ['user_id'])
    op.create_table(
        'session_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('agree', sa.Integer(), nullable=True),
        sa.Column('disagree', sa.Integer(), nullable=True),
        sa.Column('abstain', sa.Integer(), nullable=True),
        sa.Column('present', sa.Integer(), nullable=True),
        sa.Column('passed', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['session_id'], ['review_session.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id', 'application_id'),
    )
    op.create_index('ix_session_application_session_id', 'session_application', ['session_id'])
    op.create_index(
        'ix_session_application_application_id', 'session_application', ['application_id']
    )
    op.create_table(
        'recusal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['session_id'], ['review_session.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id', 'user_id', 'application_id'),
    )
    op.create_index('ix_recusal_session_id', 'recusal', ['session_id'])
    op.create_index('ix_recusal_application_id', 'recusal', ['application_id'])
    op.create_table(
        'ballot_seat',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('voted', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['session_id'], ['review_session.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id', 'application_id', 'user_id'),
    )
    op.create_index('ix_ballot_seat_session_id', 'ballot_seat', ['session_id'])
    op.create_index('ix_ballot_seat_application_id', 'ballot_seat', ['application_id'])
    op.create_index('ix_ballot_seat_user_id', 'ballot_seat', ['user_id'])
    op.create_table(
        'ballot_vote',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('vote', sa.String(length=8), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['session_id'], ['review_session.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ballot_vote_session_id', 'ballot_vote', ['session_id'])


def downgrade():
    for table in (
        'ballot_vote',
        'ballot_seat',
        'recusal',
        'session_application',
        'session_expert',
        'review_session',
        'expert_profile',
    ):
        op.drop_table(table)
