"""Staff passwords: argon2id hashes (argon2-cffi defaults), rehashed when the parameters change."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Compared against when the username is unknown, so that a wrong username takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("yiqiao-no-such-staff")
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; an unknown account (None) costs the same time."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def check_strength(password: str) -> str | None:
    """Why a new password is refused, or None: long enough and not all of one kind of character."""
    if len(password) < MIN_LENGTH:
        return f"密码至少{MIN_LENGTH}位"
    kinds = sum((any(c.isdigit() for c in password), any(c.isalpha() for c in password),
                 any(not c.isalnum() for c in password)))
    return None if kinds >= 2 else "密码需包含字母、数字或符号中的至少两类"
