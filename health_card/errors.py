"""Our health card errors: the only exceptions the client raises, each with a stable ``code``.

``platform_code`` keeps the platform's own ``resultCode`` (as text) for logs and support.
:data:`PLATFORM_ERRORS` says which platform result code becomes which error; the codes are
the sandbox's (``sandbox/healthcard``), chosen where the public material names no number: check
them against the platform's error table when going live, it is the one place to change.
"""
from __future__ import annotations


class HealthCardError(Exception):
    """Base of our health card errors."""

    code = "HEALTH_CARD_ERROR"

    def __init__(self, message: str = "", platform_code: str | None = None):
        super().__init__(message or self.code)
        self.message = message or self.code
        self.platform_code = platform_code


class HealthCardUnavailable(HealthCardError):
    """No usable answer: connection refused, timeout, HTTP 5xx, platform busy, unreadable reply."""

    code = "HEALTH_CARD_UNAVAILABLE"


class HealthCardAuthError(HealthCardError):
    """The platform refused our credentials or signature: a configuration problem, not the patient's."""

    code = "HEALTH_CARD_AUTH_FAILED"


class SignatureInvalid(HealthCardAuthError):
    code = "HEALTH_CARD_SIGN_INVALID"


class AppTokenInvalid(HealthCardAuthError):
    """The app token is unknown or expired (raised only when a fresh token is refused too)."""

    code = "HEALTH_CARD_TOKEN_INVALID"


class AppCredentialsInvalid(HealthCardAuthError):
    """Unknown app id, or a hospital id the app may not act for."""

    code = "HEALTH_CARD_APP_INVALID"


class HealthCardRejected(HealthCardError):
    """The platform refused the request itself."""

    code = "HEALTH_CARD_REJECTED"


class RequestInvalid(HealthCardRejected):
    """Missing or malformed fields, or a request timestamp outside the platform's window."""

    code = "HEALTH_CARD_REQUEST_INVALID"


class IdNumberInvalid(HealthCardRejected):
    """The ID number fails its check digit or birth date, or belongs to someone else's name."""

    code = "ID_NUMBER_INVALID"


class CardNotFound(HealthCardRejected):
    code = "HEALTH_CARD_NOT_FOUND"


class HealthCodeInvalid(HealthCardRejected):
    """A health authorisation code (healthCode) that is unknown, used or expired."""

    code = "HEALTH_CODE_INVALID"


class QRCodeExpired(HealthCardRejected):
    code = "QR_EXPIRED"


class QRCodeInvalid(HealthCardRejected):
    """A code the platform never issued, or one altered since."""

    code = "QR_INVALID"


class QRCodeOtherHospital(QRCodeInvalid):
    """A genuine dynamic code issued to another hospital's application."""

    code = "QR_OTHER_HOSPITAL"


class BindingConflict(HealthCardRejected):
    """The HIS patient id is already bound to another card at this hospital."""

    code = "HEALTH_CARD_BINDING_CONFLICT"


SYSTEM_BUSY = "-1"

PLATFORM_ERRORS: dict[str, type[HealthCardError]] = {
    SYSTEM_BUSY: HealthCardUnavailable,
    "10001": SignatureInvalid,
    "10002": AppTokenInvalid,  # unknown token
    "10003": AppTokenInvalid,  # expired token
    "10004": AppCredentialsInvalid,  # unknown appId
    "10005": AppCredentialsInvalid,  # hospitalId not the app's
    "10006": RequestInvalid,  # timestamp outside the window
    "10007": RequestInvalid,  # parameter missing or malformed
    "20001": IdNumberInvalid,
    "20002": CardNotFound,
    "20003": QRCodeExpired,
    "20004": QRCodeInvalid,
    "20005": QRCodeOtherHospital,
    "20006": HealthCodeInvalid,
    "20007": BindingConflict,
}


def from_platform(result_code: object, message: str) -> HealthCardError:
    """The error for a non-zero ``commonOut.resultCode``."""
    text = str(result_code).strip()
    return PLATFORM_ERRORS.get(text, HealthCardRejected)(message or f"platform result {text}", text)
