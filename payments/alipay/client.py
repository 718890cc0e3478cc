"""The official SDK's ``DefaultAlipayClient``, with the defects found on this machine wrapped inside.

The SDK still builds every request (request and model classes, ``get_params``, common parameters,
``url_encode``) and still checks every answer's signature (``__parse_response`` with the Alipay
public key). Two of its steps are replaced:

* signing, where it stamps ``timestamp`` with the server's local time (Alipay expects
  Asia/Shanghai: on a UTC host every request is 8 hours off), signs ``k=`` for an empty parameter
  (Alipay leaves those out) and signs with pure-Python RSA; here the timestamp is Shanghai time,
  the string is ``keys.sign_content`` and the signer is pluggable (``keys.Signer``);
* the HTTP exchange: ``WebUtils.do_post`` raises ``TypeError`` for a ``server_url`` with a port
  (and would connect to port 80 anyway), raises ``TypeError`` again for any HTTP status but 200
  (``str + bytes``), and lets socket timeouts escape raw. Here ``requests`` posts the same query
  string and body, with a connect and a read timeout, and every failure becomes one of our errors.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid

import requests
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.constant.CommonConstants import ALIPAY_SDK_PYTHON_VERSION, THREAD_LOCAL
from alipay.aop.api.constant.ParamConstants import P_SIGN, P_TIMESTAMP
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.exception.Exception import RequestException
from alipay.aop.api.util.WebUtils import url_encode
from urllib3.exceptions import NewConnectionError

from payments.alipay.keys import Signer, sign_content
from payments.alipay.money import TIME_FORMAT, shanghai_now
from payments.interface import GatewayRejected, GatewayUnavailable, PaymentOutcomeUnknown

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 3.0


def _never_reached(exc: requests.RequestException) -> bool:
    """True when the request surely never reached the gateway (refused, no route, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class SdkClient(DefaultAlipayClient):
    """``DefaultAlipayClient`` signing with ``signer`` at Shanghai time and posting through ``requests``."""

    def __init__(self, config: AlipayClientConfig, signer: Signer):
        super().__init__(config, logger=None)  # the SDK's logger would log whole requests: personal data
        self.config = config
        self.signer = signer
        self._local = threading.local()

    # The SDK's private step, overridden under its mangled name: the SDK's __prepare_request calls it.
    def _DefaultAlipayClient__prepare_request_params(self, request):
        params = request.get_params()
        params[P_TIMESTAMP] = shanghai_now().strftime(TIME_FORMAT)
        common_params = self._DefaultAlipayClient__get_common_params(params)
        all_params = dict(params)
        all_params.update(common_params)
        try:
            common_params[P_SIGN] = self.signer.sign(sign_content(all_params), self.config.charset)
        except (ValueError, TypeError) as exc:
            raise GatewayRejected("支付宝请求签名失败", "SIGN_FAILED") from exc
        self._DefaultAlipayClient__remove_common_params(params)
        return common_params, params

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _post(self, url: str, body: str, headers: dict) -> bytes:
        """POST and answer the body of a 200; our errors for everything else."""
        timeout = (min(CONNECT_TIMEOUT, self.config.timeout), self.config.timeout)
        try:
            reply = self._session().post(url, data=body.encode(self.config.charset), headers=headers,
                                         timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            if _never_reached(exc):
                raise GatewayUnavailable("支付宝暂时无法连接", "NETWORK_UNREACHABLE") from exc
            raise PaymentOutcomeUnknown("支付宝响应超时或中断", "NETWORK_ERROR") from exc
        if reply.status_code == 503:
            raise GatewayUnavailable("支付宝服务暂不可用", "HTTP_503")
        if reply.status_code != 200:
            raise PaymentOutcomeUnknown(f"支付宝返回 HTTP {reply.status_code}", f"HTTP_{reply.status_code}")
        return reply.content

    def execute(self, request) -> str:
        """Sign, post and verify like the SDK's execute; the verified ``*_response`` JSON text."""
        THREAD_LOCAL.uuid = str(uuid.uuid1())
        THREAD_LOCAL.logger = None
        headers = {
            "Content-type": "application/x-www-form-urlencoded;charset=" + self.config.charset,
            "Cache-Control": "no-cache",
            "User-Agent": ALIPAY_SDK_PYTHON_VERSION,
            "log-uuid": THREAD_LOCAL.uuid,
        }
        try:
            query_string, params = self._DefaultAlipayClient__prepare_request(request)
        except (RequestException, ValueError, TypeError, KeyError) as exc:
            raise GatewayRejected("支付宝请求无法构造", "REQUEST_INVALID") from exc
        joiner = "&" if "?" in self.config.server_url else "?"
        raw = self._post(self.config.server_url + joiner + query_string,
                         url_encode(params, self.config.charset) if params else "", headers)
        try:
            return self._DefaultAlipayClient__parse_response(raw)
        except Exception as exc:  # the SDK raises bare Exceptions, or worse, for a bad answer
            log.warning("alipay answer refused: %s", type(exc).__name__)
            raise PaymentOutcomeUnknown("支付宝响应无法验证", "RESPONSE_UNVERIFIED") from exc

    def call(self, request) -> dict:
        """Execute request; the fields of its verified answer."""
        content = self.execute(request)
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise PaymentOutcomeUnknown("支付宝响应格式错误", "RESPONSE_MALFORMED") from exc
        if not isinstance(data, dict):
            raise PaymentOutcomeUnknown("支付宝响应格式错误", "RESPONSE_MALFORMED")
        return data


def make_config(app_id: str, server_url: str, app_private_key_pkcs1: str, alipay_public_key_spki: str,
                timeout: float) -> AlipayClientConfig:
    """The SDK's config for RSA2, UTF-8, JSON."""
    config = AlipayClientConfig()
    config.server_url = server_url
    config.app_id = app_id
    config.app_private_key = app_private_key_pkcs1
    config.alipay_public_key = alipay_public_key_spki
    config.sign_type = "RSA2"
    config.charset = "utf-8"
    config.timeout = timeout
    return config
