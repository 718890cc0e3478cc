"""health cards, staff, audit

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:51:02.284722

"""
from alembic import op
import sqlalchemy as sa

from bff.db_guards import append_only, drop_append_only


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('roles', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=128), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_accounts_username'))
    )
    op.create_table('health_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('health_card_id', sa.String(length=64), nullable=False),
    sa.Column('phid', sa.String(length=64), nullable=False),
    sa.Column('qr_code_enc', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_health_cards_patient_id_patients')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_health_cards_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_cards')),
    sa.UniqueConstraint('patient_id', name=op.f('uq_health_cards_patient_id'))
    )
    with op.batch_alter_table('health_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_cards_health_card_id'), ['health_card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_cards_user_id'), ['user_id'], unique=False)

    op.create_table('staff_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('his_patient_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_staff_audit_patient_id_patients')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], name=op.f('fk_staff_audit_staff_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_audit'))
    )
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_audit_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_audit_staff_id'), ['staff_id'], unique=False)

    for statement in append_only("staff_audit", op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_append_only("staff_audit", op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_audit_staff_id'))
        batch_op.drop_index(batch_op.f('ix_staff_audit_patient_id'))
        batch_op.drop_index(batch_op.f('ix_staff_audit_at'))

    op.drop_table('staff_audit')
    with op.batch_alter_table('health_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_cards_user_id'))
        batch_op.drop_index(batch_op.f('ix_health_cards_health_card_id'))

    op.drop_table('health_cards')
    op.drop_table('staff_accounts')
