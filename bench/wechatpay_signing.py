"""`python -m bench.wechatpay_signing`: what WeChat Pay's cryptography costs us, per call.

Rows: building + signing a v3 request (what wechatpayv3 does before each call), the RSA paySign,
verifying + decrypting a v3 notification through our gateway, the same for v2 (HMAC-SHA256),
and a v3 prepay + query round trip against the simulator on loopback. Baseline, measured in
the same run: a bare RSA-2048 sign and verify with `cryptography`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import statistics
import tempfile
import threading

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from wechatpayv3 import utils as v3_utils
from werkzeug.serving import make_server

from bench.common import table, timed_ms
from payments.interface import PaymentRequest
from payments.wechatpay import WeChatPayV2Gateway, WeChatPayV3Gateway
from sandbox import keys as sandbox_keys
from sandbox.wechatpay import create_app, messages
from sandbox.wechatpay.trades import TZ, Trade

N = int(os.environ.get("BENCH_WXPAY_N", "400"))
BODY = {"appid": "wx-sandbox-appid", "mchid": "1900000109", "description": "挂号费-心血管内科",
        "out_trade_no": "REG20261124000001", "notify_url": "https://bff.example.cn/notify/wechatpay",
        "amount": {"total": 2500, "currency": "CNY"}, "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}


def _timed(fn, n: int = N) -> list[float]:
    return timed_ms(fn, n)


def _row(name: str, samples: list[float]) -> list[object]:
    ordered = sorted(samples)
    return [name, len(samples), f"{statistics.median(ordered):.3f}", f"{ordered[int(len(ordered) * 0.99) - 1]:.3f}"]


def _paid_trade(box, api: str) -> Trade:
    trade = Trade("REG20261124000001", api, "JSAPI", box.appid, box.mchid, "挂号费", 2500, "http://127.0.0.1:9/n",
                  "oUpF8uMuAJO", "", created_at=dt.datetime.now(TZ), sign_type="HMAC-SHA256")
    box.trades._mark_paid(trade)
    return trade


def run(workdir: str) -> str:
    """Measure and render the table."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    keys = sandbox_keys.ensure(os.path.join(workdir, "keys"))
    app = create_app(keys, secapi_requires_cert=False)
    box = app.extensions["sandbox_wechatpay"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s, base = keys.secrets, f"http://127.0.0.1:{server.server_port}"
    v3 = WeChatPayV3Gateway(mchid=s["wechatpay_mchid"], appid=s["wechatpay_appid"],
                            private_key=keys.private_key("merchant"), merchant_serial=s["merchant_serial"],
                            apiv3_key=s["apiv3_key"], public_key=keys.public_key("wechatpay_platform"),
                            public_key_id=s["wechatpay_public_key_id"], notify_url=base + "/n", api_base_url=base)
    v2 = WeChatPayV2Gateway(mchid=s["wechatpay_mchid"], appid=s["wechatpay_appid"], api_key=s["apiv2_key"],
                            notify_url=base + "/n", api_base_url=base + "/")
    private = serialization.load_pem_private_key(keys.private_key("merchant").encode(), password=None)
    public = private.public_key()
    message = b"POST\n/v3/pay/transactions/jsapi\n1700000000\nNONCE\n" + json.dumps(BODY).encode() + b"\n"
    signature = private.sign(message, padding.PKCS1v15(), hashes.SHA256())

    v3_notice = messages.render(messages.payment_notice(_paid_trade(box, "v3")), box)
    v2_notice = messages.render(messages.payment_notice(_paid_trade(box, "v2")), box)
    v3_headers = v3_notice.headers()  # signed once: timestamps stay inside the window for the run
    counter = iter(range(10**9))

    def round_trip():
        no = f"BENCH{next(counter):012d}"
        v3.create(PaymentRequest(no, 2500, "挂号费", base + "/n", payer_id="oUpF8uMuAJO"))
        v3.query(no)

    rows = [
        _row("baseline: RSA-2048 sign (cryptography)",
             _timed(lambda: private.sign(message, padding.PKCS1v15(), hashes.SHA256()))),
        _row("baseline: RSA-2048 verify (cryptography)",
             _timed(lambda: public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256()))),
        _row("v3 request: build + sign Authorization", _timed(lambda: v3_utils.build_authorization(
            "/v3/pay/transactions/jsapi", "POST", s["wechatpay_mchid"], s["merchant_serial"], private, BODY))),
        _row("v3 wx.requestPayment params (RSA paySign)", _timed(lambda: v3.pay_params("wx2611241234567890"))),
        _row("v3 notification: verify + decrypt + map", _timed(lambda: v3.parse_notification(v3_headers,
                                                                                            v3_notice.body))),
        _row("v2 notification: HMAC-SHA256 verify + map", _timed(lambda: v2.parse_notification({}, v2_notice.body))),
        _row("v3 prepay + query round trip (loopback)", _timed(round_trip, n=max(20, N // 8))),
    ]
    server.shutdown()
    box.close()
    return table("WeChat Pay cryptography per call (ms)", ["operation", "n", "median", "p99"], rows,
                 ["the round trip includes the simulator's own verify and sign on both calls (same process, 2 cores)"])


def main() -> None:
    """Print the table."""
    with tempfile.TemporaryDirectory(prefix="yiqiao-wxpay-bench-") as workdir:
        print(run(workdir))


if __name__ == "__main__":
    main()
