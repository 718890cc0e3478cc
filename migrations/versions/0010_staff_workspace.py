"""staff workspace: where doctors and nurses work, and a forced first password change

Revision ID: 0010_staff_workspace
Revises: 0009_money
Create Date: 2026-12-04 18:40:00

`staff_accounts` gains `ward` and `department` (doctors and nurses see the patients of their own
ward/department) and `must_change_password` (an account an admin created or reset chooses its own
password at first sign-in). Existing accounts keep working: no ward, no forced change.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_staff_workspace'
down_revision = '0009_money'
branch_labels = None
depends_on = None


def _change_staff_accounts(change) -> None:
    """SQLite rebuilds the table; the audit log points at it, so foreign keys are off meanwhile."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    def add(batch_op):
        batch_op.add_column(sa.Column('ward', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('department', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    _change_staff_accounts(add)


def downgrade():
    def drop(batch_op):
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('department')
        batch_op.drop_column('ward')
    _change_staff_accounts(drop)
