"""money that needs a person: refunds refused for good, reissued or paid back offline; bill refunds (退费)

Revision ID: 0009_money
Revises: 0008_staff
Create Date: 2026-12-04 15:50:00

`refunds.status` grows to 16 characters (`refund_failed`, `refunded_offline`); a refund counts the
times the gateway was asked (`attempts`), says why it was refused (`refusal`) and, once paid back
another way, how and by whom (`settled_note`, `settled_by`, `settled_at`). A settlement order
remembers the request id of its refund in the HIS (`his_refund_request_id`, `his_refund_id`).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_money'
down_revision = '0008_staff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=12), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('refusal', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('settled_note', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('settled_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_refunds_settled_by_staff_accounts'), 'staff_accounts',
                                    ['settled_by'], ['id'])
    with op.batch_alter_table('bill_settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('his_refund_request_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('his_refund_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('refund_reason', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('bill_settlements', schema=None) as batch_op:
        batch_op.drop_column('refund_reason')
        batch_op.drop_column('his_refund_id')
        batch_op.drop_column('his_refund_request_id')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refunds_settled_by_staff_accounts'), type_='foreignkey')
        batch_op.drop_column('settled_at')
        batch_op.drop_column('settled_by')
        batch_op.drop_column('settled_note')
        batch_op.drop_column('refusal')
        batch_op.drop_column('attempts')
        batch_op.alter_column('status', existing_type=sa.String(length=16), type_=sa.String(length=12),
                              existing_nullable=False)
