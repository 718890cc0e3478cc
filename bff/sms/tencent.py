"""Tencent Cloud SMS through the official SDK (``tencentcloud-sdk-python-sms``, ``SendSms`` 2021-01-11).

The SDK signs each request TC3-HMAC-SHA256 with the API key pair. Outcomes:

- ``SendStatusSet[0].Code == "Ok"``: sent;
- another code there (``LimitExceeded.PhoneNumberDailyLimit``, ``InvalidParameterValue.IncorrectPhoneNumber``
  …) or a refusal of the request (``AuthFailure.*``, ``FailedOperation.*`` …): ``SmsRejected``;
- no answer, a timeout, HTTP 5xx, ``InternalError.*``, ``RequestLimitExceeded`` or a reply we
  cannot read: ``SmsUnavailable``.

The phone and the code are never logged, and the SDK (which writes requests and replies at DEBUG)
is kept quiet.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from bff.sms.port import SmsRejected, SmsSender, SmsUnavailable

log = logging.getLogger(__name__)
# The SDK logs whole requests and replies (number and code included) at DEBUG.
logging.getLogger("tencentcloud_sdk_common").setLevel(logging.WARNING)

_MAINLAND = re.compile(r"^1\d{10}$")
# Error categories that mean "the service looked at the request and said no": retrying will not help.
_REFUSALS = frozenset({
    "AuthFailure", "FailedOperation", "InvalidAction", "InvalidParameter", "InvalidParameterValue",
    "LimitExceeded", "MissingParameter", "NoSuchVersion", "UnauthorizedOperation", "UnknownParameter",
    "UnsupportedOperation", "UnsupportedRegion", "UnsupportedProtocol", "InvalidRequest",
})


def _endpoint(url: str) -> tuple[str, str]:
    """(protocol, host[:port]) from SMS_ENDPOINT: "sms.tencentcloudapi.com" or "http://127.0.0.1:8107"."""
    if "://" not in url:
        return "https", url.strip().rstrip("/")
    parts = urlsplit(url.strip())
    return parts.scheme, parts.netloc


def _failure(exc: TencentCloudSDKException) -> Exception:
    code = str(exc.code or "")
    if code.split(".", 1)[0] in _REFUSALS:
        return SmsRejected(code, str(exc.message or ""))
    # Network errors, HTTP errors, InternalError.*, RequestLimitExceeded, replies the SDK could not read.
    return SmsUnavailable(code or "unknown")


class TencentSms(SmsSender):
    """Sends verification codes from one SMS application of a Tencent Cloud account."""

    def __init__(self, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str, template_id: str,
                 region: str = "ap-guangzhou", endpoint: str = "sms.tencentcloudapi.com", timeout: float = 5.0):
        self.secret_id, self.secret_key = secret_id, secret_key
        self.sdk_app_id, self.sign_name, self.template_id = sdk_app_id, sign_name, template_id
        self.region, self.timeout = region, timeout
        self.protocol, self.host = _endpoint(endpoint)

    @classmethod
    def from_config(cls, config: dict) -> TencentSms:
        """From the SMS_* settings."""
        return cls(config["SMS_SECRET_ID"], config["SMS_SECRET_KEY"], config["SMS_SDK_APP_ID"],
                   config["SMS_SIGN_NAME"], config["SMS_TEMPLATE_ID"], region=config["SMS_REGION"],
                   endpoint=config["SMS_ENDPOINT"], timeout=config["SMS_TIMEOUT_SECONDS"])

    def _client(self) -> sms_client.SmsClient:
        # A client per message: its requests.Session is not shared between threads, and codes are rare.
        http = HttpProfile(protocol=self.protocol, endpoint=self.host, reqTimeout=self.timeout)
        return sms_client.SmsClient(credential.Credential(self.secret_id, self.secret_key), self.region,
                                    ClientProfile(httpProfile=http))

    def send_verification_code(self, phone: str, code: str, minutes: int) -> None:
        """Send a 6-digit code valid for `minutes` to a mainland mobile (11 digits, no +86)."""
        if not _MAINLAND.match(phone or ""):
            raise SmsRejected("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误")
        request = models.SendSmsRequest()
        request.SmsSdkAppId, request.SignName, request.TemplateId = self.sdk_app_id, self.sign_name, self.template_id
        request.TemplateParamSet = [code, str(minutes)]
        request.PhoneNumberSet = ["+86" + phone]
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            failure = _failure(exc)
            log.warning("sms not sent: %s (request %s)", exc.code, exc.requestId)
            raise failure from None
        statuses = response.SendStatusSet or []
        if not statuses:
            log.warning("sms reply without a send status (request %s)", response.RequestId)
            raise SmsUnavailable("no send status")
        status = statuses[0]
        if status.Code != "Ok":
            log.warning("sms refused: %s (request %s)", status.Code, response.RequestId)
            raise SmsRejected(str(status.Code), str(status.Message or ""))
        log.info("sms sent (template %s, serial %s)", self.template_id, status.SerialNo)
