"""staff lockout per username and address; kiosk nonces

Revision ID: 0008_staff
Revises: 0007_identity
Create Date: 2026-12-04 15:50:00

Wrong staff passwords are counted per (username, client address) in `staff_login_failures`, for
known and unknown usernames alike, instead of on the account (`failed_logins`, `locked_until` go:
an account locked at upgrade time is unlocked). Kiosk requests carry a nonce: `kiosk_nonces_seen`
keyed by (kiosk, nonce) replaces the signatures seen (those expire within minutes anyway).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_staff'
down_revision = '0007_identity'
branch_labels = None
depends_on = None


def _change_staff_accounts(change) -> None:
    """SQLite rebuilds the table to drop a column; the audit log points at it, so foreign keys are
    off while it is copied (PRAGMA works only outside a transaction)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    op.create_table('staff_login_failures',
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('lockouts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', 'ip', name=op.f('pk_staff_login_failures'))
    )
    with op.batch_alter_table('staff_login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_login_failures_last_failed_at'), ['last_failed_at'], unique=False)

    def change(batch_op):
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
    _change_staff_accounts(change)

    op.create_table('kiosk_nonces_seen',
    sa.Column('kiosk_id', sa.String(length=32), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kiosk_id', 'nonce', name=op.f('pk_kiosk_nonces_seen'))
    )
    with op.batch_alter_table('kiosk_nonces_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_nonces_seen_seen_at'), ['seen_at'], unique=False)
    with op.batch_alter_table('kiosk_requests_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_requests_seen_seen_at'))
    op.drop_table('kiosk_requests_seen')


def downgrade():
    op.create_table('kiosk_requests_seen',
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('kiosk_id', sa.String(length=32), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_kiosk_requests_seen'))
    )
    with op.batch_alter_table('kiosk_requests_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_requests_seen_seen_at'), ['seen_at'], unique=False)
    with op.batch_alter_table('kiosk_nonces_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_nonces_seen_seen_at'))
    op.drop_table('kiosk_nonces_seen')

    def change(batch_op):
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    _change_staff_accounts(change)

    with op.batch_alter_table('staff_login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_login_failures_last_failed_at'))
    op.drop_table('staff_login_failures')
