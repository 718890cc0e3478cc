"""Flask app of the WeChat Pay simulator: v3 REST, v2 XML, face-pay authinfo and ``/_control/``.

``create_app(keys)`` takes the sandbox keys (``sandbox.keys.ensure(dir)``): it verifies our
requests with the merchant public key (v3) or the API v2 key, signs its answers and
notifications with the platform private key (v3) or the API v2 key, and encrypts v3
notification resources with the API v3 key. Faults (``POST /_control/faults``) apply to the
protocol endpoints only; the control API always answers.
"""
from __future__ import annotations

import secrets
import threading
import time

from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from flask import Flask

from sandbox.faults import Faults
from sandbox.wechatpay import control, crypto, messages, v2_api, v3_api
from sandbox.wechatpay.notifier import Notifier
from sandbox.wechatpay.trades import Refund, Trade, Trades

NONCE_WINDOW = 300  # seconds: requests older than this are refused, so their nonces can be forgotten


class WeChatPaySandbox:
    """The simulator's state: keys, trades, notifications, faults."""

    def __init__(self, keys, notify_scale: float, refund_delay: float | None, notify_timeout: float,
                 secapi_requires_cert: bool):
        s = keys.secrets
        self.mchid, self.appid = s["wechatpay_mchid"], s["wechatpay_appid"]
        self.merchant_serial, self.public_key_id = s["merchant_serial"], s["wechatpay_public_key_id"]
        self.apiv3_key, self.apiv2_key = s["apiv3_key"], s["apiv2_key"]
        self.merchant_public = load_pem_public_key(keys.public_key("merchant").encode())
        self.platform_private = load_pem_private_key(keys.private_key("wechatpay_platform").encode(), password=None)
        self.refund_delay, self.secapi_requires_cert = refund_delay, secapi_requires_cert
        self.trades, self.faults = Trades(), Faults()
        self.notifier = Notifier(scale=notify_scale, timeout=notify_timeout)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to an empty merchant account, faults off, nothing in flight."""
        self.trades.reset()
        self.faults.reset()
        self.notifier.reset()
        with self._lock:
            self.notices: dict[str, list[messages.Notice]] = {}
            self.held: set[str] = set()
            self.bill_files: dict[str, bytes] = {}
            self._nonces: dict[str, float] = {}

    def close(self) -> None:
        """Stop the notifier threads."""
        self.notifier.close()

    def fresh_nonce(self, nonce: str) -> bool:
        """False when a v3 request nonce was seen in the last NONCE_WINDOW seconds (a replay)."""
        now = time.monotonic()
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if now - t < 2 * NONCE_WINDOW}
            if nonce in self._nonces:
                return False
            self._nonces[nonce] = now
            return True

    def signature_headers(self, body: str, stamp: str | None = None, forged_signature: bool = False,
                          serial: str | None = None) -> dict:
        """v3 ``Wechatpay-*`` headers signing ``ts\\nnonce\\nbody\\n`` with the platform key."""
        stamp, nonce = stamp or str(int(time.time())), secrets.token_hex(16)
        signature = crypto.rsa_sign(self.platform_private, f"{stamp}\n{nonce}\n{body}\n")
        if forged_signature:
            signature = crypto.rsa_sign(self.platform_private, f"{stamp}\n{nonce}\nsomething else\n")
        return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                "Wechatpay-Serial": serial or self.public_key_id,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}

    def notify(self, notice: messages.Notice, delay: float = 0.0) -> None:
        """Record a notice as its trade's latest and deliver it (held while the trade's notices are held)."""
        if not notice.url:
            return
        with self._lock:
            self.notices.setdefault(notice.out_trade_no, []).append(notice)
            hold = notice.out_trade_no in self.held
        self.notifier.send(messages.render(notice, self), delay=delay, hold=hold)

    def latest_notice(self, out_trade_no: str, kind: str | None, out_refund_no: str = "") -> messages.Notice | None:
        """The last notice of a trade (of a kind, of a refund)."""
        with self._lock:
            for notice in reversed(self.notices.get(out_trade_no, [])):
                if (kind in (None, notice.kind)) and (not out_refund_no or notice.out_refund_no == out_refund_no):
                    return notice
        return None

    def hold(self, out_trade_no: str, held: bool = True) -> None:
        """Hold (or stop holding) the trade's future notifications."""
        with self._lock:
            (self.held.add if held else self.held.discard)(out_trade_no)

    def paid(self, trade: Trade, delay: float = 0.0) -> None:
        """A JSAPI payment went through: its notification follows (face payments have none)."""
        if trade.trade_type == "JSAPI" and trade.state == "SUCCESS":
            self.notify(messages.payment_notice(trade), delay)

    def refund_created(self, refund: Refund) -> None:
        """A new refund finishes after refund_delay seconds (stays PROCESSING when that is None)."""
        if self.refund_delay is not None:
            self.notifier.later(self.refund_delay, lambda: self.finish_refund(refund.out_refund_no, "SUCCESS"))

    def finish_refund(self, out_refund_no: str, result: str) -> Refund | None:
        """Finish a PROCESSING refund; its notification follows."""
        refund = self.trades.finish_refund(out_refund_no, result)
        if refund is not None:
            self.notify(messages.refund_notice(self.trades.get(refund.out_trade_no), refund))
        return refund


def create_app(keys, *, notify_scale: float = 0.01, refund_delay: float | None = 0.05,
               notify_timeout: float = 5.0, secapi_requires_cert: bool = True) -> Flask:
    """Build the simulator.

    notify_scale multiplies WeChat Pay's retry schedule (15 s, 15 s, 30 s, 3 min … 6 h);
    refund_delay is how long a refund stays PROCESSING (None: until ``/_control/refunds/finish``);
    secapi_requires_cert makes ``/secapi/`` refuse requests without the merchant certificate.
    """
    app = Flask("sandbox.wechatpay")
    app.extensions["sandbox_wechatpay"] = WeChatPaySandbox(keys, notify_scale, refund_delay, notify_timeout,
                                                           secapi_requires_cert)
    app.register_blueprint(v3_api.bp)
    app.register_blueprint(v2_api.bp)
    app.register_blueprint(control.bp)
    return app
