"""The simulated platform's ``commonOut.resultCode`` values and the error that carries them.

The public material on the platform names no error numbers, so these are the sandbox's own;
``health_card.errors.PLATFORM_ERRORS`` maps the same numbers (check both against the platform's
error table when going live).
"""
from __future__ import annotations

OK = 0
SYSTEM_BUSY = -1
SIGN_INVALID = 10001
TOKEN_UNKNOWN = 10002
TOKEN_EXPIRED = 10003
APP_UNKNOWN = 10004
HOSPITAL_MISMATCH = 10005
TIMESTAMP_OUT_OF_WINDOW = 10006
PARAM_INVALID = 10007
ID_INVALID = 20001
CARD_NOT_FOUND = 20002
QR_EXPIRED = 20003
QR_INVALID = 20004
QR_OTHER_HOSPITAL = 20005
HEALTH_CODE_INVALID = 20006
BINDING_CONFLICT = 20007


class PlatformError(Exception):
    """A refusal, answered as commonOut {resultCode, errMsg}."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
