"""Names that explain themselves: process_instance.version -> revision (the compare-and-swap
counter), process_version.version -> number (the deploy number)

Revision ID: 0008_names
Revises: 0006_withdraw
Create Date: 2026-12-02 04:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_names'
down_revision = '0006_withdraw'
branch_labels = None
depends_on = None


# A rename alone needs no table copy: SQLite (3.25+) and PostgreSQL both rename a column in
# place, keeping its constraints and the foreign keys that point at the table. Copying
# process_version instead would drop a table other rows refer to.


def upgrade():
    with op.batch_alter_table('process_instance', schema=None, recreate='never') as batch_op:
        batch_op.alter_column('version', new_column_name='revision')
    with op.batch_alter_table('process_version', schema=None, recreate='never') as batch_op:
        batch_op.alter_column('version', new_column_name='number')


def downgrade():
    with op.batch_alter_table('process_version', schema=None, recreate='never') as batch_op:
        batch_op.alter_column('number', new_column_name='version')
    with op.batch_alter_table('process_instance', schema=None, recreate='never') as batch_op:
        batch_op.alter_column('revision', new_column_name='version')
