"""Staff accounts, wrong passwords per username and address, and the append-only audit log."""
from __future__ import annotations

import datetime as dt

from bff.db_types import AwareDateTime
from bff.extensions import db

ROLES = ("doctor", "nurse", "registrar", "pharmacist", "admin", "emergency")
ROLE_NAMES = {"doctor": "医生", "nurse": "护士", "registrar": "挂号收费员", "pharmacist": "药师", "admin": "管理员",
              "emergency": "急救"}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StaffAccount(db.Model):
    __tablename__ = "staff_accounts"

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(32), nullable=False, unique=True)
    name = db.Column(db.String(64), nullable=False)
    roles = db.Column(db.String(80), nullable=False)  # comma-separated, from ROLES
    password_hash = db.Column(db.String(128), nullable=False)  # argon2id
    active = db.Column(db.Boolean, nullable=False, default=True)
    token_version = db.Column(db.Integer, nullable=False, default=1)  # bumped to end every issued token
    # Where a doctor or nurse works: they see the patients of their own ward (病区) / department only.
    ward = db.Column(db.String(16))  # HIS ward code, e.g. "W0101"; None: no ward (registrars, admins…)
    department = db.Column(db.String(16))  # HIS department code, e.g. "0101"
    # An account an admin created (or whose password an admin reset) must choose its own password first.
    must_change_password = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)
    last_login_at = db.Column(AwareDateTime())

    @property
    def role_list(self) -> list[str]:
        """The account's roles."""
        return [r for r in self.roles.split(",") if r]


class LoginFailure(db.Model):
    """Wrong passwords for one username from one client address, and the lockout they led to.

    Kept for any username typed, known or not (so an unknown one locks like a real one), and per
    address (so guesses from elsewhere never lock the owner out at their own desk). In the
    database, so every BFF process counts the same failures.
    """

    __tablename__ = "staff_login_failures"

    username = db.Column(db.String(32), primary_key=True)
    ip = db.Column(db.String(64), primary_key=True)
    failures = db.Column(db.Integer, nullable=False, default=0)  # since the last lockout
    lockouts = db.Column(db.Integer, nullable=False, default=0)  # each one twice as long as the one before
    locked_until = db.Column(AwareDateTime())
    last_failed_at = db.Column(AwareDateTime(), nullable=False, index=True)
