"""proof before linking a known person: SMS verifications and the append-only link audit

Revision ID: 0007_identity
Revises: 0006
Create Date: 2026-12-04 15:50:00

`patient_verifications` holds a pending link to a person the HIS already knows until the user
proves the phone on file with an SMS code (stored as an HMAC); `patient_link_events` records
every link, refusal and code attempt (the ID number and phone only as blind indexes) and is
append-only, like the staff audit log.
"""
from alembic import op
import sqlalchemy as sa

from bff.db_guards import append_only, drop_append_only


# revision identifiers, used by Alembic.
revision = '0007_identity'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'patient_verifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('his_patient_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('relation', sa.String(length=16), nullable=False),
        sa.Column('id_type', sa.String(length=4), nullable=False),
        sa.Column('id_number_enc', sa.String(length=128), nullable=False),
        sa.Column('id_number_index', sa.String(length=64), nullable=False),
        sa.Column('phone_enc', sa.String(length=128), nullable=False),
        sa.Column('his_phone_enc', sa.String(length=128), nullable=False),
        sa.Column('his_phone_index', sa.String(length=64), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patient_verifications_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_verifications')),
        sa.UniqueConstraint('public_id', name=op.f('uq_patient_verifications_public_id')),
    )
    with op.batch_alter_table('patient_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_verifications_user_id'), ['user_id'], unique=False)

    op.create_table(
        'patient_link_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('id_number_index', sa.String(length=64), nullable=True),
        sa.Column('phone_index', sa.String(length=64), nullable=True),
        sa.Column('verification_id', sa.Integer(), nullable=True),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_link_events')),
    )
    with op.batch_alter_table('patient_link_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_link_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_link_events_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_link_events_phone_index'), ['phone_index'], unique=False)

    for statement in append_only("patient_link_events", op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_append_only("patient_link_events", op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('patient_link_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_link_events_phone_index'))
        batch_op.drop_index(batch_op.f('ix_patient_link_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_patient_link_events_at'))
    op.drop_table('patient_link_events')
    with op.batch_alter_table('patient_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_verifications_user_id'))
    op.drop_table('patient_verifications')
