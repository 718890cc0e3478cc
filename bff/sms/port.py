"""What the BFF needs from an SMS service: send a verification code to a mainland mobile."""
from __future__ import annotations

import abc


class SmsError(Exception):
    """Sending a message failed."""


class SmsUnavailable(SmsError):
    """No answer, a timeout or a server error: try again later."""


class SmsRejected(SmsError):
    """The service refused the message (limits, bad number, bad template...)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class SmsSender(abc.ABC):
    """Sends verification codes by text message."""

    @abc.abstractmethod
    def send_verification_code(self, phone: str, code: str, minutes: int) -> None:
        """Send a 6-digit code valid for `minutes` to a mainland mobile (11 digits, no +86)."""
