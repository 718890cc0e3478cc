"""kiosks

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:45:52.999408

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kiosk_devices',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_enc', sa.String(length=160), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_devices'))
    )
    op.create_table('kiosk_requests_seen',
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('kiosk_id', sa.String(length=32), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_kiosk_requests_seen'))
    )
    with op.batch_alter_table('kiosk_requests_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_requests_seen_seen_at'), ['seen_at'], unique=False)



def downgrade():
    with op.batch_alter_table('kiosk_requests_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_requests_seen_seen_at'))

    op.drop_table('kiosk_requests_seen')
    op.drop_table('kiosk_devices')
