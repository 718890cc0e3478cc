"""Staff login lockout per username AND client address, with lockouts that double each time.

After STAFF_MAX_FAILED_LOGINS wrong passwords for one username from one address, that pair is
locked for 1 minute, then 2, 4, 8 … up to STAFF_LOCKOUT_MINUTES. A username nobody has counts
and locks exactly like a real one, and guesses from another address never lock the owner out
(their own address has its own count). A success from an address clears that address's count.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets

from flask import current_app

from bff import rows
from bff.extensions import db
from bff.staff.models import LoginFailure

log = logging.getLogger("bff.staff")

FIRST_LOCKOUT = dt.timedelta(minutes=1)
FORGET_AFTER = dt.timedelta(days=1)  # an address quiet this long (and not locked) starts again from nothing


def _pair(username: str, ip: str):
    return (LoginFailure.username == username) & (LoginFailure.ip == ip)


def locked_for(username: str, ip: str, now: dt.datetime) -> dt.timedelta | None:
    """How long this username stays locked for this address, or None."""
    until = db.session.execute(db.select(LoginFailure.locked_until).where(_pair(username, ip))).scalar_one_or_none()
    return until - now if until is not None and until > now else None


def lockout_length(lockouts: int) -> dt.timedelta:
    """The n-th lockout (from 1): 1 minute, doubling, at most STAFF_LOCKOUT_MINUTES."""
    longest = dt.timedelta(minutes=current_app.config["STAFF_LOCKOUT_MINUTES"])
    return min(FIRST_LOCKOUT * 2 ** min(lockouts - 1, 20), longest)


def claim(username: str, ip: str, now: dt.datetime) -> dt.timedelta | None:
    """Count this attempt BEFORE its password is checked; the lockout it must wait out, or None to go on.

    Counted first, atomically, so guesses sent in parallel cannot all be checked while the count
    still looks low: only STAFF_MAX_FAILED_LOGINS of them ever reach the password check. A right
    password clears the count (succeeded); a wrong one leaves it counted (failed).
    """
    _purge_sometimes(now)
    rows.insert_once(LoginFailure, username=username, ip=ip, failures=0, lockouts=0, last_failed_at=now)
    open_ = LoginFailure.locked_until.is_(None) | (LoginFailure.locked_until <= now)
    count = db.session.execute(db.update(LoginFailure).where(_pair(username, ip), open_)
                               .values(failures=LoginFailure.failures + 1, last_failed_at=now)
                               .returning(LoginFailure.failures)).scalar_one_or_none()
    db.session.commit()
    if count is None:  # locked: not counted, not checked
        return locked_for(username, ip, now) or FIRST_LOCKOUT
    if count > current_app.config["STAFF_MAX_FAILED_LOGINS"]:  # parallel guesses past the limit
        return locked_for(username, ip, now) or FIRST_LOCKOUT
    return None


def failed(username: str, ip: str, now: dt.datetime) -> dt.timedelta | None:
    """The claimed attempt's password was wrong: the one that reached the limit starts the lockout and answers it."""
    limit = current_app.config["STAFF_MAX_FAILED_LOGINS"]
    # Only the attempt that finds the count still at the limit starts the lockout (the row is locked).
    lockouts = db.session.execute(db.update(LoginFailure).where(_pair(username, ip), LoginFailure.failures >= limit)
                                  .values(failures=0, lockouts=LoginFailure.lockouts + 1)
                                  .returning(LoginFailure.lockouts)).scalar_one_or_none()
    if lockouts is not None:
        length = lockout_length(lockouts)
        db.session.execute(db.update(LoginFailure).where(_pair(username, ip)).values(locked_until=now + length))
        log.warning("staff login locked for one address", extra={
            "username": username, "client_ip": ip, "lockout": lockouts, "seconds": int(length.total_seconds())})
        db.session.commit()
        return length
    db.session.commit()
    return None  # still under the limit (an attempt counted after it is refused at claim)


def succeeded(username: str, ip: str) -> None:
    """The right password from this address: its count starts again (in the caller's transaction)."""
    db.session.execute(db.delete(LoginFailure).where(_pair(username, ip)))


def clear(username: str) -> int:
    """Forget every address's failures for the username (an admin unlocking it); how many were kept."""
    return db.session.execute(db.delete(LoginFailure).where(LoginFailure.username == username)).rowcount


def _purge_sometimes(now: dt.datetime) -> None:
    """Now and then drop the rows of addresses long quiet and not locked (guessed names pile up otherwise)."""
    if secrets.randbelow(50):
        return
    quiet = LoginFailure.last_failed_at < now - FORGET_AFTER
    unlocked = LoginFailure.locked_until.is_(None) | (LoginFailure.locked_until < now)
    db.session.execute(db.delete(LoginFailure).where(quiet, unlocked))
