"""bill settlements

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 02:44:17.717058

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bill_settlements',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('his_patient_id', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('bills', sa.Text(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('receipt_no', sa.String(length=64), nullable=True),
    sa.Column('his_settlement_id', sa.String(length=64), nullable=True),
    sa.Column('failure_reason', sa.String(length=80), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_bill_settlements_patient_id_patients')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bill_settlements_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_settlements')),
    sa.UniqueConstraint('request_id', name=op.f('uq_bill_settlements_request_id'))
    )
    with op.batch_alter_table('bill_settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_settlements_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_settlements_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_settlements_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_settlements_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('bill_settlements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_settlements_user_id'))
        batch_op.drop_index(batch_op.f('ix_bill_settlements_status'))
        batch_op.drop_index(batch_op.f('ix_bill_settlements_patient_id'))
        batch_op.drop_index(batch_op.f('ix_bill_settlements_created_at'))

    op.drop_table('bill_settlements')
