"""orders remember the trade that paid them; stuck-payment checks; one gateway's transaction numbers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:20:00

What changed after 0005 had shipped, as its own step so a database at 0005 gets it too:
`appointments.trade_no` and `bill_settlements.trade_no` (filled from the first captured payment
of each order), `payments.next_check_at` (when the stuck-payment job asks the gateway next), the transaction number unique per gateway rather than
across all of them, and an index for the hourly purge of kept Idempotency-Key answers.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_FIRST_CAPTURE = ("(SELECT p.out_trade_no FROM payments p WHERE p.order_type = '{kind}' AND p.order_id = {table}.id"
                  " AND p.paid_at IS NOT NULL ORDER BY p.paid_at, p.id LIMIT 1)")


def _rebuild_payments(change) -> None:
    """SQLite rebuilds the table to change a constraint; refunds and the ledger point at it, so
    their foreign keys are off while it is copied (PRAGMA works only outside a transaction)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    for table in ('appointments', 'bill_settlements'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('trade_no', sa.String(length=32), nullable=True))
    op.execute("UPDATE appointments SET trade_no = " + _FIRST_CAPTURE.format(kind="appointment", table="appointments"))
    op.execute("UPDATE bill_settlements SET trade_no = " + _FIRST_CAPTURE.format(kind="bills", table="bill_settlements"))

    def change(batch_op):
        batch_op.add_column(sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_next_check_at'), ['next_check_at'], unique=False)
        batch_op.drop_constraint('uq_payments_transaction_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_payments_gateway_transaction_id'),
                                          ['gateway', 'transaction_id'])
    _rebuild_payments(change)

    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    def change(batch_op):
        batch_op.drop_constraint('uq_payments_gateway_transaction_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_payments_transaction_id'), ['transaction_id'])
        batch_op.drop_index(batch_op.f('ix_payments_next_check_at'))
        batch_op.drop_column('next_check_at')
    _rebuild_payments(change)

    for table in ('bill_settlements', 'appointments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('trade_no')
