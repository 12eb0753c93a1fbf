"""破格 flag on applications (eligibility that binds; withdrawal needs no column)

Revision ID: 0006_withdraw
Revises: 0004_audit_chain
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_withdraw'
down_revision = '0004_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('exceptional', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('exceptional')
